/*
 * test_event_pattern.c - EventBridge event pattern parsing and matching.
 *
 * The table contains a pattern, an event and the expected outcome: a match, no
 * match, or a parse error whose message contains a given text.  To keep the
 * JSON readable, patterns and events are written with single quotes, which
 * the test turns into double quotes before parsing, so no case can contain a
 * literal apostrophe.  Cases named aws_* come from the EventBridge user guide;
 * cases marked "AWS-verified" repeat outcomes that LocalStack's test suite
 * recorded against real EventBridge.
 */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "../../common/status.h"
#include "../../registry/event_pattern.h"

enum expect {
	EXPECT_MATCH,
	EXPECT_NO_MATCH,
	EXPECT_INVALID,
};

struct pattern_case {
	const char *name;
	const char *pattern;
	const char *event;
	enum expect expected;
	const char *error_part; /* EXPECT_INVALID: text the message must contain */
};

/* The EC2 state-change event of the user guide's "Event patterns" page. */
#define EC2_EVENT                                                                                                  \
	"{'version':'0','id':'6a7e8feb-b491-4cf7-a9f1-bf3703467718','detail-type':'EC2 Instance State-change "     \
	"Notification','source':'aws.ec2','account':'111122223333','time':'2017-12-22T18:43:48Z',"                \
	"'region':'us-west-1','resources':['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],"    \
	"'detail':{'instance-id':'i-1234567890abcdef0','state':'terminated'}}"

/* Event Ruler's README example event, with counts and a source IP. */
#define RULER_EVENT                                                                                                \
	"{'version':'0','id':'ddddd4-aaaa-7777-4444-345dd43cc333','detail-type':'EC2 Instance State-change "       \
	"Notification','source':'aws.ec2','account':'012345679012','time':'2017-10-02T16:24:49Z',"                \
	"'region':'us-east-1','resources':['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],"    \
	"'detail':{'c-count':5,'d-count':3,'x-limit':301.8,'source-ip':'10.0.0.33',"                               \
	"'instance-id':'i-000000aaaaaa00000','state':'running'}}"

/* The EC2 Auto Scaling event of the user guide's null and empty-string page. */
#define AUTOSCALING_EVENT                                                                                          \
	"{'version':'0','id':'3e3c153a-8339-4e30-8c35-687ebef853fe','detail-type':'EC2 Instance Launch "           \
	"Successful','source':'aws.autoscaling','account':'123456789012','time':'2015-11-11T21:31:47Z',"           \
	"'region':'us-east-1','resources':[],'detail':{'eventVersion':'','responseElements':null}}"

#define EMPLOYEES_EVENT                                                                                            \
	"{'employees':[{'firstName':'John','lastName':'Doe'},{'firstName':'Anna','lastName':'Smith'},"            \
	"{'firstName':'Peter','lastName':'Jones'}]}"

/* ECR's image push and scan events, shaped as ECR sends them to EventBridge. */
#define ECR_ACTION_EVENT(repository, action, result)                                                               \
	"{'version':'0','id':'13cde686-328b-6117-af20-0e5566167482','detail-type':'ECR Image Action',"             \
	"'source':'aws.ecr','account':'123456789012','time':'2019-11-16T01:54:34Z','region':'us-west-2',"          \
	"'resources':[],'detail':{'result':'" result "','repository-name':'" repository "',"                       \
	"'image-digest':'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd',"                \
	"'action-type':'" action "','image-tag':'latest'}}"

#define ECR_SCAN_EVENT(severity_counts)                                                                            \
	"{'version':'0','id':'85fc3613-e913-7fc4-a80c-a3753e4aa9ae','detail-type':'ECR Image Scan',"               \
	"'source':'aws.ecr','account':'123456789012','time':'2019-10-29T02:36:48Z','region':'us-east-1',"          \
	"'resources':['arn:aws:ecr:us-east-1:123456789012:repository/my-repository-name'],"                       \
	"'detail':{'scan-status':'COMPLETE','repository-name':'my-repository-name',"                               \
	"'finding-severity-counts':" severity_counts ","                                                           \
	"'image-digest':'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd',"                \
	"'image-tags':[]}}"

#define ECR_PUSH_PROD_PATTERN                                                                                      \
	"{'source':['aws.ecr'],'detail-type':['ECR Image Action'],'detail':{'action-type':['PUSH'],"               \
	"'result':['SUCCESS'],'repository-name':[{'prefix':'prod-'}]}}"

#define ECR_CRITICAL_PATTERN                                                                                       \
	"{'detail-type':['ECR Image Scan'],'detail':{'finding-severity-counts':{'CRITICAL':[{'numeric':['>',0]}]}}}"

#define RULER_NUMERIC_PATTERN                                                                                      \
	"{'detail':{'c-count':[{'numeric':['>',0,'<=',5]}],'d-count':[{'numeric':['<',10]}],"                      \
	"'x-limit':[{'numeric':['=',3.018e2]}]}}"

#define OR_DETAIL_PATTERN                                                                                          \
	"{'detail':{'$or':[{'c-count':[{'numeric':['>',0,'<=',5]}]},{'d-count':[{'numeric':['<',10]}]},"           \
	"{'x-limit':[{'numeric':['=',3.018e2]}]}]}}"

#define OR_NESTED_PATTERN                                                                                          \
	"{'source':['aws.cloudwatch'],'$or':[{'metricName':['CPUUtilization','ReadLatency']},"                      \
	"{'metricType':['MetricType'],'namespace':['AWS/EC2','AWS/ES'],'$or':[{'metricId':[1234]},"                \
	"{'spaceId':[1000]}]},{'scope':['Service']}]}"

#define RESOURCES_PATTERN                                                                                          \
	"{'resources':['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',"                                  \
	"'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',"                                                \
	"'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f']}"

#define ASG_ARN                                                                                                    \
	"arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:"        \
	"autoScalingGroupName/ASGTerminate"

static const struct pattern_case cases[] = {
	/* Structure, exact values and types. */
	{"aws_ec2_terminated_matches",
	 "{'source':['aws.ec2'],'detail-type':['EC2 Instance State-change Notification'],'detail':{'state':['terminated']}}",
	 EC2_EVENT, EXPECT_MATCH, NULL},
	{"aws_ec2_other_state_no_match",
	 "{'source':['aws.ec2'],'detail-type':['EC2 Instance State-change Notification'],'detail':{'state':['running']}}",
	 EC2_EVENT, EXPECT_NO_MATCH, NULL},
	{"aws_source_either_value", "{'source':['aws.fargate','aws.ec2']}", EC2_EVENT, EXPECT_MATCH, NULL},
	{"aws_ruler_simple_match",
	 "{'detail-type':['EC2 Instance State-change Notification'],"
	 "'resources':['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],"
	 "'detail':{'state':['initializing','running']}}",
	 RULER_EVENT, EXPECT_MATCH, NULL},
	{"fields_not_in_pattern_ignored", "{'region':['us-west-1']}", EC2_EVENT, EXPECT_MATCH, NULL},
	{"named_field_missing_no_match", "{'detail':{'missing':['x']}}", EC2_EVENT, EXPECT_NO_MATCH, NULL},
	{"nesting_level_must_match", "{'state':['terminated']}", EC2_EVENT, EXPECT_NO_MATCH, NULL},
	{"strings_case_sensitive", "{'source':['AWS.EC2']}", EC2_EVENT, EXPECT_NO_MATCH, NULL},
	{"keys_case_sensitive", "{'Source':['aws.ec2']}", EC2_EVENT, EXPECT_NO_MATCH, NULL},
	{"aws_empty_string_matches", "{'detail':{'eventVersion':['']}}", AUTOSCALING_EVENT, EXPECT_MATCH, NULL},
	{"aws_null_matches", "{'source':['aws.autoscaling'],'detail':{'responseElements':[null]}}", AUTOSCALING_EVENT,
	 EXPECT_MATCH, NULL},
	{"aws_null_not_empty_string", "{'detail':{'eventVersion':[null]}}", AUTOSCALING_EVENT, EXPECT_NO_MATCH, NULL},
	{"aws_empty_string_not_null", "{'detail':{'responseElements':['']}}", AUTOSCALING_EVENT, EXPECT_NO_MATCH,
	 NULL},
	{"aws_macie_score_and_count", "{'source':['aws.macie'],'detail':{'severity':{'score':[1]},'count':[2]}}",
	 "{'source':'aws.macie','detail':{'severity':{'score':1,'description':'Low'},'count':2}}", EXPECT_MATCH, NULL},
	{"number_does_not_equal_string", "{'n':['5']}", "{'n':5}", EXPECT_NO_MATCH, NULL},
	{"string_does_not_equal_number", "{'n':[5]}", "{'n':'5'}", EXPECT_NO_MATCH, NULL},
	{"integer_does_not_equal_real", "{'n':[300]}", "{'n':300.0}", EXPECT_NO_MATCH, NULL},
	{"real_equals_same_real", "{'x':[3.018e2]}", "{'x':301.8}", EXPECT_MATCH, NULL},
	{"boolean_true_matches", "{'b':[true]}", "{'b':true}", EXPECT_MATCH, NULL},
	{"boolean_not_string", "{'b':['true']}", "{'b':true}", EXPECT_NO_MATCH, NULL},
	{"boolean_false_not_true", "{'b':[false]}", "{'b':true}", EXPECT_NO_MATCH, NULL},
	{"leaf_does_not_match_object", "{'detail':['x']}", "{'detail':{'a':'x'}}", EXPECT_NO_MATCH, NULL},
	{"object_pattern_on_scalar_no_match", "{'detail':{'a':['x']}}", "{'detail':'x'}", EXPECT_NO_MATCH, NULL},
	{"dotted_key_is_literal", "{'detail':{'state':{'status':['running']}}}", "{'detail':{'state.status':'running'}}",
	 EXPECT_NO_MATCH, NULL},
	{"duplicate_key_last_wins_match",
	 "{'detail':{'location':[{'prefix':'us-'}],'location':[{'anything-but':'us-east'}]}}",
	 "{'detail':{'location':'eu-west-1'}}", EXPECT_MATCH, NULL},
	{"duplicate_key_last_wins_no_match",
	 "{'detail':{'location':[{'prefix':'eu-'}],'location':[{'anything-but':'us-east'}]}}",
	 "{'detail':{'location':'us-east'}}", EXPECT_NO_MATCH, NULL},
	{"empty_pattern_matches_everything", "{}", EC2_EVENT, EXPECT_MATCH, NULL},
	/* AWS-verified: an empty object adds no condition. */
	{"empty_object_adds_no_condition", "{'detail':{'automations':{}}}",
	 "{'detail':{'automations':[{'key1':'value1'},{'id':'x'}]}}", EXPECT_MATCH, NULL},

	/* Arrays in events. */
	{"aws_arrays_intersect", RESOURCES_PATTERN,
	 "{'resources':['" ASG_ARN "','arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f']}", EXPECT_MATCH, NULL},
	{"aws_arrays_disjoint", RESOURCES_PATTERN, "{'resources':['" ASG_ARN "']}", EXPECT_NO_MATCH, NULL},
	/* AWS-verified: an empty event array has no value. */
	{"empty_event_array_not_null", "{'resources':[null]}", AUTOSCALING_EVENT, EXPECT_NO_MATCH, NULL},
	{"empty_event_array_not_existing", "{'resources':[{'exists':true}]}", AUTOSCALING_EVENT, EXPECT_NO_MATCH,
	 NULL},
	{"empty_event_array_absent", "{'resources':[{'exists':false}]}", AUTOSCALING_EVENT, EXPECT_MATCH, NULL},
	{"array_of_objects_any_element", "{'employees':{'firstName':['Anna']}}", EMPLOYEES_EVENT, EXPECT_MATCH, NULL},
	{"array_of_objects_same_element", "{'employees':{'firstName':['Anna'],'lastName':['Smith']}}", EMPLOYEES_EVENT,
	 EXPECT_MATCH, NULL},
	{"array_of_objects_not_across_elements", "{'employees':{'firstName':['Anna'],'lastName':['Jones']}}",
	 EMPLOYEES_EVENT, EXPECT_NO_MATCH, NULL},
	{"nested_arrays_of_objects", "{'employees':{'firstName':['Peter']}}",
	 "{'employees':[[{'firstName':'John'},{'firstName':'Anna'}],[{'firstName':'Peter'}]]}", EXPECT_MATCH, NULL},
	{"nested_scalar_arrays_flattened", "{'a':['x']}", "{'a':[['y'],[['x']]]}", EXPECT_MATCH, NULL},
	{"array_with_objects_and_scalars", "{'a':['x']}", "{'a':[{'b':'x'},'x']}", EXPECT_MATCH, NULL},
	{"object_pattern_empty_array_absent", "{'items':{'a':[{'exists':false}]}}", "{'items':[]}", EXPECT_MATCH, NULL},
	{"object_pattern_empty_array_no_value", "{'items':{'a':['x']}}", "{'items':[]}", EXPECT_NO_MATCH, NULL},

	/* prefix, suffix and equals-ignore-case. */
	{"aws_prefix_time", "{'time':[{'prefix':'2017-10-02'}]}", RULER_EVENT, EXPECT_MATCH, NULL},
	{"prefix_mismatch", "{'time':[{'prefix':'2017-10-03'}]}", RULER_EVENT, EXPECT_NO_MATCH, NULL},
	{"prefix_only_on_strings", "{'n':[{'prefix':'1'}]}", "{'n':123}", EXPECT_NO_MATCH, NULL},
	{"prefix_longer_than_value", "{'n':[{'prefix':'abcd'}]}", "{'n':'abc'}", EXPECT_NO_MATCH, NULL},
	/* AWS-verified: an empty prefix matches every string. */
	{"prefix_empty_matches_any_string", "{'source':[{'prefix':''}]}", EC2_EVENT, EXPECT_MATCH, NULL},
	{"aws_prefix_ignore_case", "{'detail':{'service':[{'prefix':{'equals-ignore-case':'EventB'}}]}}",
	 "{'detail':{'service':'eventbridge'}}", EXPECT_MATCH, NULL},
	{"aws_suffix_png", "{'FileName':[{'suffix':'.png'}]}", "{'FileName':'photo.png'}", EXPECT_MATCH, NULL},
	{"suffix_case_sensitive", "{'FileName':[{'suffix':'.png'}]}", "{'FileName':'photo.PNG'}", EXPECT_NO_MATCH,
	 NULL},
	{"aws_suffix_ignore_case", "{'FileName':[{'suffix':{'equals-ignore-case':'.png'}}]}",
	 "{'FileName':'photo.PNG'}", EXPECT_MATCH, NULL},
	{"suffix_longer_than_value", "{'f':[{'suffix':'long.png'}]}", "{'f':'g.png'}", EXPECT_NO_MATCH, NULL},
	{"aws_equals_ignore_case", "{'detail-type':[{'equals-ignore-case':'ec2 instance state-change notification'}]}",
	 EC2_EVENT, EXPECT_MATCH, NULL},
	{"equals_ignore_case_length_differs", "{'v':[{'equals-ignore-case':'abc'}]}", "{'v':'ABCD'}", EXPECT_NO_MATCH,
	 NULL},
	{"equals_ignore_case_non_ascii", "{'v':[{'equals-ignore-case':'\\u00c9T\\u00c9'}]}", "{'v':'\\u00e9t\\u00e9'}",
	 EXPECT_MATCH, NULL},
	{"suffix_ignore_case_non_ascii", "{'v':[{'suffix':{'equals-ignore-case':'\\u00df\\u00c9'}}]}",
	 "{'v':'stra\\u00df\\u00e9'}", EXPECT_MATCH, NULL},
	/* AWS-verified: an empty equals-ignore-case matches only "". */
	{"equals_ignore_case_empty_no_match", "{'v':[{'equals-ignore-case':''}]}", "{'v':'test'}", EXPECT_NO_MATCH,
	 NULL},

	/* wildcard. */
	{"wildcard_event_bus_arn", "{'EventBusArn':[{'wildcard':'arn:aws:events:us-east-1:*:event-bus/*'}]}",
	 "{'EventBusArn':'arn:aws:events:us-east-1:123456789012:event-bus/myEventBus'}", EXPECT_MATCH, NULL},
	{"wildcard_single_star_path", "{'FileName':[{'wildcard':'/Users/*/doc.txt'}]}",
	 "{'FileName':'/Users/me/dir/dir/doc.txt'}", EXPECT_MATCH, NULL},
	{"wildcard_single_star_mismatch", "{'FileName':[{'wildcard':'/Users/*/doc.txt'}]}",
	 "{'FileName':'/Users/me/dir/other-doc.txt.bak'}", EXPECT_NO_MATCH, NULL},
	{"wildcard_repeating_segments", "{'FileName':[{'wildcard':'/Users/*/dir/dir/doc.txt'}]}",
	 "{'FileName':'/Users/me/dir/dir/dir/dir/doc.txt'}", EXPECT_MATCH, NULL},
	{"wildcard_repeating_segments_mismatch", "{'FileName':[{'wildcard':'/Users/*/dir/dir/doc.txt'}]}",
	 "{'FileName':'/Users/me/dir/other/doc.txt'}", EXPECT_NO_MATCH, NULL},
	{"wildcard_star_matches_empty", "{'v':[{'wildcard':'a*b*c'}]}", "{'v':'abc'}", EXPECT_MATCH, NULL},
	{"wildcard_pieces_must_not_overlap", "{'v':[{'wildcard':'ab*ba'}]}", "{'v':'aba'}", EXPECT_NO_MATCH, NULL},
	{"wildcard_escaped_star_literal", "{'v':[{'wildcard':'a\\\\*b'}]}", "{'v':'a*b'}", EXPECT_MATCH, NULL},
	{"wildcard_escaped_star_not_wild", "{'v':[{'wildcard':'a\\\\*b'}]}", "{'v':'axb'}", EXPECT_NO_MATCH, NULL},
	{"wildcard_escaped_backslash", "{'v':[{'wildcard':'a\\\\\\\\*'}]}", "{'v':'a\\\\bc'}", EXPECT_MATCH, NULL},
	/* AWS-verified: an empty wildcard matches only "". */
	{"wildcard_empty_matches_only_empty", "{'v':[{'wildcard':''}]}", "{'v':'x'}", EXPECT_NO_MATCH, NULL},
	{"wildcard_only_on_strings", "{'v':[{'wildcard':'*'}]}", "{'v':5}", EXPECT_NO_MATCH, NULL},
	{"wildcard_consecutive_stars_invalid", "{'v':[{'wildcard':'arn:**:x'}]}", NULL, EXPECT_INVALID,
	 "Consecutive wildcard characters at position 5"},
	{"wildcard_other_escape_invalid", "{'v':[{'wildcard':'a\\\\b'}]}", NULL, EXPECT_INVALID, "Invalid escape"},
	{"wildcard_trailing_backslash_invalid", "{'v':[{'wildcard':'ab\\\\'}]}", NULL, EXPECT_INVALID,
	 "Invalid escape"},
	{"wildcard_not_string_invalid", "{'v':[{'wildcard':['a*']}]}", NULL, EXPECT_INVALID, "must be a string"},

	/* anything-but. */
	{"aws_anything_but_string", "{'detail':{'state':[{'anything-but':'initializing'}]}}", RULER_EVENT, EXPECT_MATCH,
	 NULL},
	{"anything_but_string_excluded", "{'detail':{'state':[{'anything-but':'running'}]}}", RULER_EVENT,
	 EXPECT_NO_MATCH, NULL},
	/* AWS-verified: anything-but needs the field, and accepts null. */
	{"anything_but_missing_field", "{'detail':{'state':[{'anything-but':'initializing'}]}}", "{'detail':{}}",
	 EXPECT_NO_MATCH, NULL},
	{"anything_but_null_value", "{'detail':{'state':[{'anything-but':'initializing'}]}}",
	 "{'detail':{'state':null}}", EXPECT_MATCH, NULL},
	{"aws_anything_but_number", "{'detail':{'x-limit':[{'anything-but':123}]}}", RULER_EVENT, EXPECT_MATCH, NULL},
	{"anything_but_number_excluded", "{'detail':{'x-limit':[{'anything-but':123}]}}", "{'detail':{'x-limit':123}}",
	 EXPECT_NO_MATCH, NULL},
	{"anything_but_number_compares_numerically", "{'x':[{'anything-but':123}]}", "{'x':123.0}", EXPECT_NO_MATCH,
	 NULL},
	{"anything_but_number_accepts_string", "{'x':[{'anything-but':123}]}", "{'x':'123'}", EXPECT_MATCH, NULL},
	{"aws_anything_but_string_list", "{'detail':{'state':[{'anything-but':['stopped','overloaded']}]}}",
	 RULER_EVENT, EXPECT_MATCH, NULL},
	{"anything_but_string_list_excluded", "{'detail':{'state':[{'anything-but':['stopped','running']}]}}",
	 RULER_EVENT, EXPECT_NO_MATCH, NULL},
	{"aws_anything_but_number_list", "{'detail':{'x-limit':[{'anything-but':[100,200,300]}]}}", RULER_EVENT,
	 EXPECT_MATCH, NULL},
	{"anything_but_number_list_excluded", "{'x':[{'anything-but':[100,200,300]}]}", "{'x':200}", EXPECT_NO_MATCH,
	 NULL},
	{"anything_but_event_array_one_other", "{'s':[{'anything-but':'stopped'}]}", "{'s':['stopped','running']}",
	 EXPECT_MATCH, NULL},
	{"anything_but_event_array_all_excluded", "{'s':[{'anything-but':'stopped'}]}", "{'s':['stopped','stopped']}",
	 EXPECT_NO_MATCH, NULL},
	{"aws_anything_but_prefix", "{'detail':{'state':[{'anything-but':{'prefix':'init'}}]}}", RULER_EVENT,
	 EXPECT_MATCH, NULL},
	{"anything_but_prefix_excluded", "{'detail':{'state':[{'anything-but':{'prefix':'init'}}]}}",
	 "{'detail':{'state':'initializing'}}", EXPECT_NO_MATCH, NULL},
	/* AWS-verified: values other than strings pass string-based anything-but. */
	{"anything_but_prefix_number_value", "{'detail':{'state':[{'anything-but':{'prefix':'init'}}]}}",
	 "{'detail':{'state':12}}", EXPECT_MATCH, NULL},
	{"anything_but_prefix_list", "{'s':[{'anything-but':{'prefix':['init','error']}}]}", "{'s':'error: disk'}",
	 EXPECT_NO_MATCH, NULL},
	{"anything_but_suffix", "{'detail':{'instance-id':[{'anything-but':{'suffix':'1234'}}]}}",
	 "{'detail':{'instance-id':'i-0001234'}}", EXPECT_NO_MATCH, NULL},
	{"anything_but_suffix_list_other", "{'id':[{'anything-but':{'suffix':['1234','6789']}}]}", "{'id':'i-5555'}",
	 EXPECT_MATCH, NULL},
	{"anything_but_ignore_case", "{'state':[{'anything-but':{'equals-ignore-case':'Stopped'}}]}",
	 "{'state':'STOPPED'}", EXPECT_NO_MATCH, NULL},
	{"anything_but_ignore_case_list", "{'state':[{'anything-but':{'equals-ignore-case':['Stopped','OverLoaded']}}]}",
	 "{'state':'running'}", EXPECT_MATCH, NULL},
	{"aws_anything_but_wildcard", "{'detail':{'FilePath':[{'anything-but':{'wildcard':'*/dir/*'}}]}}",
	 "{'detail':{'FilePath':'dir/init/file'}}", EXPECT_MATCH, NULL},
	{"anything_but_wildcard_excluded", "{'detail':{'FilePath':[{'anything-but':{'wildcard':'*/init/*'}}]}}",
	 "{'detail':{'FilePath':'dir/init/file'}}", EXPECT_NO_MATCH, NULL},
	{"anything_but_wildcard_list", "{'f':[{'anything-but':{'wildcard':['*/bin/*.jar','*/bin/*.class']}}]}",
	 "{'f':'/opt/bin/app.class'}", EXPECT_NO_MATCH, NULL},
	{"anything_but_wildcard_empty", "{'f':[{'anything-but':{'wildcard':''}}]}", "{'f':'dir/init/file'}",
	 EXPECT_MATCH, NULL},
	{"anything_but_mixed_list_invalid", "{'x':[{'anything-but':['a',1]}]}", NULL, EXPECT_INVALID,
	 "all values must be numbers"},
	{"anything_but_null_list_invalid", "{'x':[{'anything-but':[null]}]}", NULL, EXPECT_INVALID,
	 "only strings or numbers"},
	{"anything_but_null_invalid", "{'x':[{'anything-but':null}]}", NULL, EXPECT_INVALID,
	 "Value of anything-but must be"},
	{"anything_but_empty_list_invalid", "{'x':[{'anything-but':[]}]}", NULL, EXPECT_INVALID, "Empty arrays"},
	{"anything_but_empty_prefix_invalid", "{'x':[{'anything-but':{'prefix':''}}]}", NULL, EXPECT_INVALID,
	 "must not be empty"},
	{"anything_but_prefix_ignore_case_invalid", "{'x':[{'anything-but':{'prefix':{'equals-ignore-case':'a'}}}]}",
	 NULL, EXPECT_INVALID, "must be a string or a list of strings"},
	{"anything_but_unsupported_object_invalid", "{'x':[{'anything-but':{'numeric':['>',1]}}]}", NULL,
	 EXPECT_INVALID, "Unsupported anything-but pattern: numeric"},
	{"anything_but_ignore_case_number_invalid", "{'x':[{'anything-but':{'equals-ignore-case':[1]}}]}", NULL,
	 EXPECT_INVALID, "list of strings"},
	{"anything_but_number_out_of_range_invalid", "{'x':[{'anything-but':6e9}]}", NULL, EXPECT_INVALID,
	 "outside the numeric matching range"},

	/* numeric. */
	{"aws_numeric_all_fields", RULER_NUMERIC_PATTERN, RULER_EVENT, EXPECT_MATCH, NULL},
	{"aws_numeric_upper_bound_inclusive", RULER_NUMERIC_PATTERN,
	 "{'detail':{'c-count':6,'d-count':3,'x-limit':301.8}}", EXPECT_NO_MATCH, NULL},
	{"aws_numeric_lower_bound_exclusive", RULER_NUMERIC_PATTERN,
	 "{'detail':{'c-count':0,'d-count':3,'x-limit':301.8}}", EXPECT_NO_MATCH, NULL},
	{"numeric_equals_across_notations", "{'x':[{'numeric':['=',3.018e2]}]}", "{'x':301.80}", EXPECT_MATCH, NULL},
	/* AWS-verified: an integer bound accepts a real event value. */
	{"numeric_integer_bound_real_value", "{'number':[{'numeric':['>',100]}]}", "{'number':101.0}", EXPECT_MATCH,
	 NULL},
	{"numeric_string_value_no_match", "{'number':[{'numeric':['>',100]}]}", "{'number':'101'}", EXPECT_NO_MATCH,
	 NULL},
	{"numeric_null_value_no_match", "{'number':[{'numeric':['>',100]}]}", "{'number':null}", EXPECT_NO_MATCH, NULL},
	{"numeric_negative_closed_range", "{'t':[{'numeric':['>=',-10.5,'<',0]}]}", "{'t':-10.5}", EXPECT_MATCH, NULL},
	{"numeric_event_array_any_element", "{'t':[{'numeric':['<',0]}]}", "{'t':[5,'x',-1]}", EXPECT_MATCH, NULL},
	{"numeric_limit_inclusive", "{'t':[{'numeric':['<=',5e9]}]}", "{'t':5000000000}", EXPECT_MATCH, NULL},
	{"numeric_event_beyond_limit_no_match", "{'t':[{'numeric':['>',0]}]}", "{'t':5000000001}", EXPECT_NO_MATCH,
	 NULL},
	{"numeric_six_decimals_allowed", "{'t':[{'numeric':['=',0.000001]}]}", "{'t':1e-6}", EXPECT_MATCH, NULL},
	{"numeric_operand_beyond_limit_invalid", "{'t':[{'numeric':['<',5000000001]}]}", NULL, EXPECT_INVALID,
	 "outside the numeric matching range"},
	{"numeric_seven_decimals_invalid", "{'t':[{'numeric':['>',0.0000001]}]}", NULL, EXPECT_INVALID,
	 "digits after the decimal point"},
	{"numeric_sixteen_digits_invalid", "{'t':[{'numeric':['>',1234567890.123456]}]}", NULL, EXPECT_INVALID,
	 "significant digits"},
	{"numeric_bottom_not_below_top_invalid", "{'t':[{'numeric':['>',5,'<=',5]}]}", NULL, EXPECT_INVALID,
	 "Bottom must be less than top"},
	/* AWS-verified message: the second operator must be an upper bound. */
	{"numeric_two_lower_bounds_invalid", "{'t':[{'numeric':['>',0,'>',5]}]}", NULL, EXPECT_INVALID,
	 "Bad numeric range operator: >"},
	{"numeric_upper_then_lower_invalid", "{'t':[{'numeric':['<',10,'>',0]}]}", NULL, EXPECT_INVALID,
	 "Too many elements"},
	{"numeric_string_operand_invalid", "{'t':[{'numeric':['<','10']}]}", NULL, EXPECT_INVALID,
	 "Value of < must be numeric"},
	{"numeric_missing_upper_value_invalid", "{'t':[{'numeric':['>',0,'<']}]}", NULL, EXPECT_INVALID,
	 "Value of < must be numeric"},
	{"numeric_not_array_invalid", "{'t':[{'numeric':5}]}", NULL, EXPECT_INVALID, "Value of numeric must be an array"},
	{"numeric_unknown_operator_invalid", "{'t':[{'numeric':['!=',5]}]}", NULL, EXPECT_INVALID, "operators"},
	{"numeric_empty_invalid", "{'t':[{'numeric':[]}]}", NULL, EXPECT_INVALID, "operators"},

	/* exists. */
	{"aws_exists_true", "{'detail':{'state':[{'exists':true}]}}", RULER_EVENT, EXPECT_MATCH, NULL},
	{"exists_true_missing_field", "{'detail':{'c-count':[{'exists':true}]}}", EC2_EVENT, EXPECT_NO_MATCH, NULL},
	{"aws_exists_false_missing_field", "{'detail':{'c-count':[{'exists':false}]}}", EC2_EVENT, EXPECT_MATCH, NULL},
	{"aws_exists_false_intermediate_object", "{'detail':{'c-count':[{'exists':false}]}}",
	 "{'detail':{'state':['initializing','running'],'c-count':{'c1':100}}}", EXPECT_MATCH, NULL},
	/* AWS-verified: an intermediate object does not exist for exists:true. */
	{"exists_true_intermediate_object", "{'dynamodb':{'presentKey':[{'exists':true}]}}",
	 "{'dynamodb':{'presentKey':{'S':'test123'}}}", EXPECT_NO_MATCH, NULL},
	{"exists_true_leaf_under_object", "{'dynamodb':{'presentKey':{'S':[{'exists':true}]}}}",
	 "{'dynamodb':{'presentKey':{'S':'test123'}}}", EXPECT_MATCH, NULL},
	{"exists_false_present_field", "{'detail':{'state':[{'exists':false}]}}", RULER_EVENT, EXPECT_NO_MATCH, NULL},
	/* AWS-verified: a missing parent makes the leaf absent. */
	{"exists_false_parent_missing",
	 "{'dynamodb':{'NewImage':{'homemade':{'S':[{'anything-but':['roses']},{'exists':false}]}}}}",
	 "{'dynamodb':{'NewImage':{'purchased':{'N':'789'}}}}", EXPECT_MATCH, NULL},
	{"exists_true_null_value", "{'v':[{'exists':true}]}", "{'v':null}", EXPECT_MATCH, NULL},
	{"exists_not_boolean_invalid", "{'v':[{'exists':'true'}]}", NULL, EXPECT_INVALID, "either true or false"},

	/* cidr. */
	{"aws_cidr_ipv4", "{'detail':{'sourceIPAddress':[{'cidr':'10.0.0.0/24'}]}}",
	 "{'detail':{'sourceIPAddress':'10.0.0.255'}}", EXPECT_MATCH, NULL},
	{"cidr_ipv4_outside", "{'detail':{'sourceIPAddress':[{'cidr':'10.0.0.0/24'}]}}",
	 "{'detail':{'sourceIPAddress':'10.0.1.1'}}", EXPECT_NO_MATCH, NULL},
	{"cidr_ipv4_partial_byte", "{'ip':[{'cidr':'10.0.0.64/26'}]}", "{'ip':'10.0.0.127'}", EXPECT_MATCH, NULL},
	{"cidr_ipv4_partial_byte_outside", "{'ip':[{'cidr':'10.0.0.64/26'}]}", "{'ip':'10.0.0.128'}", EXPECT_NO_MATCH,
	 NULL},
	{"cidr_host_bits_ignored", "{'ip':[{'cidr':'10.0.0.77/24'}]}", "{'ip':'10.0.0.1'}", EXPECT_MATCH, NULL},
	{"cidr_ipv6", "{'ip':[{'cidr':'2001:db8:1234:1a00::/64'}]}", "{'ip':'2001:db8:1234:1a00:9691:9503:25ad:1761'}",
	 EXPECT_MATCH, NULL},
	{"cidr_ipv6_outside", "{'ip':[{'cidr':'2001:db8:1234:1a00::/64'}]}", "{'ip':'2001:db8:1234:1a01::1'}",
	 EXPECT_NO_MATCH, NULL},
	{"cidr_family_mismatch", "{'ip':[{'cidr':'10.0.0.0/8'}]}", "{'ip':'::ffff:10.0.0.1'}", EXPECT_NO_MATCH, NULL},
	/* AWS-verified: a number is not an address. */
	{"cidr_number_value_no_match", "{'ip':[{'cidr':'10.0.0.0/24'}]}", "{'ip':123}", EXPECT_NO_MATCH, NULL},
	{"cidr_hostname_no_match", "{'ip':[{'cidr':'10.0.0.0/24'}]}", "{'ip':'localhost'}", EXPECT_NO_MATCH, NULL},
	{"cidr_no_slash_invalid", "{'ip':[{'cidr':'10.0.0.0'}]}", NULL, EXPECT_INVALID, "one '/' required"},
	{"cidr_bad_mask_invalid", "{'ip':[{'cidr':'bad-/64filter'}]}", NULL, EXPECT_INVALID,
	 "mask bits must be an integer"},
	{"cidr_bad_address_invalid", "{'ip':[{'cidr':'xx.11.xx/24'}]}", NULL, EXPECT_INVALID, "Nonstandard IP address"},
	{"cidr_ipv4_full_mask_invalid", "{'ip':[{'cidr':'10.0.0.1/32'}]}", NULL, EXPECT_INVALID,
	 "IPv4 mask bits must be less than 32"},
	{"cidr_ipv6_full_mask_invalid", "{'ip':[{'cidr':'::1/128'}]}", NULL, EXPECT_INVALID,
	 "IPv6 mask bits must be less than 128"},
	{"cidr_not_string_invalid", "{'ip':[{'cidr':24}]}", NULL, EXPECT_INVALID, "must be a string"},

	/* $or. */
	{"aws_or_any_branch", OR_DETAIL_PATTERN, "{'detail':{'c-count':0,'d-count':0,'x-limit':901.8}}", EXPECT_MATCH,
	 NULL},
	{"aws_or_no_branch", OR_DETAIL_PATTERN, "{'detail':{'c-count':0,'d-count':10,'x-limit':901.8}}",
	 EXPECT_NO_MATCH, NULL},
	{"or_with_and_field",
	 "{'source':['aws.cloudwatch'],'$or':[{'metricName':['CPUUtilization']},{'namespace':['AWS/EC2']}]}",
	 "{'source':'aws.cloudwatch','namespace':'AWS/EC2'}", EXPECT_MATCH, NULL},
	{"or_and_field_fails",
	 "{'source':['aws.cloudwatch'],'$or':[{'metricName':['CPUUtilization']},{'namespace':['AWS/EC2']}]}",
	 "{'source':'aws.ec2','namespace':'AWS/EC2'}", EXPECT_NO_MATCH, NULL},
	{"or_nested_inner_branch", OR_NESTED_PATTERN,
	 "{'source':'aws.cloudwatch','metricType':'MetricType','namespace':'AWS/ES','spaceId':1000}", EXPECT_MATCH,
	 NULL},
	{"or_nested_inner_branch_fails", OR_NESTED_PATTERN,
	 "{'source':'aws.cloudwatch','metricType':'MetricType','namespace':'AWS/ES','spaceId':1001}", EXPECT_NO_MATCH,
	 NULL},
	{"or_parallel_groups",
	 "{'$or':[{'a':['1']},{'b':['2']}],'detail':{'$or':[{'c':['3']},{'d':['4']}]}}",
	 "{'b':'2','detail':{'d':'4'}}", EXPECT_MATCH, NULL},
	{"or_inside_array_element", "{'items':{'$or':[{'a':['1']},{'b':['2']}],'c':['3']}}",
	 "{'items':[{'a':'1','c':'0'},{'b':'2','c':'3'}]}", EXPECT_MATCH, NULL},
	{"or_single_object_invalid", "{'$or':[{'a':['1']}]}", NULL, EXPECT_INVALID, "at least 2 objects"},
	{"or_not_array_invalid", "{'$or':{'a':['1'],'b':['2']}}", NULL, EXPECT_INVALID, "at least 2 objects"},
	{"or_element_not_object_invalid", "{'$or':[{'a':['1']},['b']]}", NULL, EXPECT_INVALID, "Only objects"},
	{"or_reserved_key_invalid", "{'$or':[{'numeric':[123]},{'prefix':['abc']}]}", NULL, EXPECT_INVALID,
	 "reserved name"},
	{"or_reserved_key_nested_invalid", "{'$or':[{'a':{'exists':['x']}},{'b':['2']}]}", NULL, EXPECT_INVALID,
	 "reserved name"},
	{"reserved_key_outside_or_allowed", "{'detail':{'prefix':['abc']}}", "{'detail':{'prefix':'abc'}}",
	 EXPECT_MATCH, NULL},

	/* Pattern validation. */
	{"pattern_not_object_invalid", "[{'source':['aws.ec2']}]", NULL, EXPECT_INVALID, "Filter is not an object"},
	{"pattern_scalar_invalid", "5", NULL, EXPECT_INVALID, "Filter is not an object"},
	{"pattern_not_json_invalid", "{'source':", NULL, EXPECT_INVALID, "invalid JSON"},
	{"leaf_string_invalid", "{'source':'aws.ec2'}", NULL, EXPECT_INVALID,
	 "\"source\" must be an object or an array at source"},
	{"leaf_number_invalid", "{'detail':{'int':5}}", NULL, EXPECT_INVALID, "must be an object or an array at detail.int"},
	{"empty_array_invalid", "{'resources':[]}", NULL, EXPECT_INVALID, "Empty arrays are not allowed at resources"},
	{"nested_array_value_invalid", "{'a':[['x']]}", NULL, EXPECT_INVALID, "Match value must be"},
	{"unknown_filter_invalid", "{'detail':{'state':[{'contains':'x'}]}}", NULL, EXPECT_INVALID,
	 "Unrecognized match type contains at detail.state[0]"},
	{"filter_name_case_sensitive_invalid", "{'a':[{'EXISTS':true}]}", NULL, EXPECT_INVALID,
	 "Unrecognized match type EXISTS"},
	{"filter_two_keys_invalid", "{'a':[{'prefix':'x','suffix':'y'}]}", NULL, EXPECT_INVALID, "exactly one key"},
	{"filter_empty_object_invalid", "{'a':['x',{}]}", NULL, EXPECT_INVALID, "exactly one key"},
	{"prefix_number_invalid", "{'a':[{'prefix':5}]}", NULL, EXPECT_INVALID, "prefix match pattern must be a string"},
	{"prefix_list_invalid", "{'a':[{'prefix':['x']}]}", NULL, EXPECT_INVALID, "prefix match pattern must be a string"},
	{"prefix_unsupported_object_invalid", "{'a':[{'prefix':{'wildcard':'x'}}]}", NULL, EXPECT_INVALID,
	 "Unsupported prefix pattern: wildcard"},
	{"suffix_number_invalid", "{'a':[{'suffix':5}]}", NULL, EXPECT_INVALID, "suffix match pattern must be a string"},
	{"equals_ignore_case_list_invalid", "{'a':[{'equals-ignore-case':['x']}]}", NULL, EXPECT_INVALID,
	 "equals-ignore-case match pattern must be a string"},
	{"error_names_or_location", "{'detail':{'$or':[{'a':['1']},{'b':[{'bogus':1}]}]}}", NULL, EXPECT_INVALID,
	 "at detail.$or[1].b[0]"},

	/* ECR events. */
	{"ecr_push_prod_repository", ECR_PUSH_PROD_PATTERN, ECR_ACTION_EVENT("prod-api", "PUSH", "SUCCESS"),
	 EXPECT_MATCH, NULL},
	{"ecr_push_other_repository", ECR_PUSH_PROD_PATTERN, ECR_ACTION_EVENT("staging-api", "PUSH", "SUCCESS"),
	 EXPECT_NO_MATCH, NULL},
	{"ecr_push_prefix_case_sensitive", ECR_PUSH_PROD_PATTERN, ECR_ACTION_EVENT("Prod-api", "PUSH", "SUCCESS"),
	 EXPECT_NO_MATCH, NULL},
	{"ecr_delete_not_push", ECR_PUSH_PROD_PATTERN, ECR_ACTION_EVENT("prod-api", "DELETE", "SUCCESS"),
	 EXPECT_NO_MATCH, NULL},
	{"ecr_push_failed", ECR_PUSH_PROD_PATTERN, ECR_ACTION_EVENT("prod-api", "PUSH", "FAILED"), EXPECT_NO_MATCH,
	 NULL},
	{"ecr_push_pattern_on_scan_event", ECR_PUSH_PROD_PATTERN, ECR_SCAN_EVENT("{'CRITICAL':1}"), EXPECT_NO_MATCH,
	 NULL},
	{"ecr_scan_with_critical", ECR_CRITICAL_PATTERN, ECR_SCAN_EVENT("{'CRITICAL':10,'MEDIUM':9}"), EXPECT_MATCH,
	 NULL},
	{"ecr_scan_without_critical", ECR_CRITICAL_PATTERN, ECR_SCAN_EVENT("{'MEDIUM':9,'LOW':3}"), EXPECT_NO_MATCH,
	 NULL},
	{"ecr_scan_critical_zero", ECR_CRITICAL_PATTERN, ECR_SCAN_EVENT("{'CRITICAL':0}"), EXPECT_NO_MATCH, NULL},
	{"ecr_scan_no_findings", ECR_CRITICAL_PATTERN, ECR_SCAN_EVENT("{}"), EXPECT_NO_MATCH, NULL},
	{"ecr_scan_pattern_on_push_event", ECR_CRITICAL_PATTERN, ECR_ACTION_EVENT("prod-api", "PUSH", "SUCCESS"),
	 EXPECT_NO_MATCH, NULL},
	{"ecr_scan_repository_resource",
	 "{'source':['aws.ecr'],'resources':[{'wildcard':'arn:aws:ecr:*:123456789012:repository/my-*'}]}",
	 ECR_SCAN_EVENT("{'HIGH':2}"), EXPECT_MATCH, NULL},
	{"ecr_scan_no_tags_exists_false", "{'detail':{'image-tags':[{'exists':false}]}}", ECR_SCAN_EVENT("{}"),
	 EXPECT_MATCH, NULL},
};

/* Turn the table's single-quoted JSON into JSON.  The caller frees it. */
static char *json_from_quoted(const char *quoted)
{
	char *text = strdup(quoted);

	for (char *c = text; c != NULL && *c != '\0'; c++) {
		if (*c == '\'')
			*c = '"';
	}
	return text;
}

static json_t *event_load(const char *quoted)
{
	char *text = json_from_quoted(quoted);
	json_error_t jerr;
	json_t *event = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (event == NULL)
		fprintf(stderr, "test event is not JSON: %s: %s\n", jerr.text, text);
	free(text);
	return event;
}

static int pattern_parse_quoted(const char *quoted, struct event_pattern **out, char *err, size_t errlen)
{
	char *text = json_from_quoted(quoted);
	int status = event_pattern_parse(text, strlen(text), out, err, errlen);

	free(text);
	return status;
}

static void test_pattern_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pattern_case *c = &cases[i];
		struct event_pattern *pattern = NULL;
		char err[512] = "";
		int status = pattern_parse_quoted(c->pattern, &pattern, err, sizeof(err));

		if (c->expected == EXPECT_INVALID) {
			if (status != LCR_ERR_INVALID_PARAMETER || strstr(err, c->error_part) == NULL)
				fprintf(stderr, "case %s: status %d, message \"%s\", expected a message with \"%s\"\n",
					c->name, status, err, c->error_part);
			CHECK(status == LCR_ERR_INVALID_PARAMETER);
			CHECK(pattern == NULL);
			CHECK(strstr(err, c->error_part) != NULL);
			CHECK(strncmp(err, "Event pattern is not valid. Reason: ", 36) == 0);
			continue;
		}
		if (status != LCR_OK) {
			fprintf(stderr, "case %s: pattern rejected: %s\n", c->name, err);
			CHECK(status == LCR_OK);
			continue;
		}

		json_t *event = event_load(c->event);
		bool matched = event_pattern_match(pattern, event);

		CHECK(event != NULL);
		if (matched != (c->expected == EXPECT_MATCH))
			fprintf(stderr, "case %s: %s, expected %s\n", c->name, matched ? "matched" : "did not match",
				c->expected == EXPECT_MATCH ? "a match" : "no match");
		CHECK(matched == (c->expected == EXPECT_MATCH));
		json_decref(event);
		event_pattern_free(pattern);
	}
}

/* Build a pattern with groups separate "$or" arrays of width alternatives
 * each, so it expands into width^groups rule combinations. */
static char *or_pattern(int groups, int width)
{
	json_t *root = json_object();
	char *text;

	for (int g = 0; g < groups; g++) {
		json_t *detail = json_object(), *alternatives = json_array();
		char key[32];

		for (int a = 0; a < width; a++) {
			char field[32];

			snprintf(field, sizeof(field), "f%d_%d", g, a);
			json_array_append_new(alternatives, json_pack("{s:[s]}", field, "x"));
		}
		json_object_set_new(detail, "$or", alternatives);
		snprintf(key, sizeof(key), "group%d", g);
		json_object_set_new(root, key, detail);
	}
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return text;
}

static int parse_text(const char *text, char *err, size_t errlen)
{
	struct event_pattern *pattern = NULL;
	int status = event_pattern_parse(text, strlen(text), &pattern, err, errlen);

	event_pattern_free(pattern);
	return status;
}

static void test_or_combination_limit(void)
{
	char err[512] = "";
	char *at_limit = or_pattern(3, 10);    /* 10 * 10 * 10 = 1000 */
	char *over_limit = or_pattern(4, 6);   /* 6^4 = 1296 */
	char *wide = or_pattern(1, 1001);      /* one $or with 1001 alternatives */
	char *wrapping = or_pattern(64, 2);    /* 2^64 wraps a 64-bit count to 0 */
	const char *nested = "{\"$or\":[{\"a\":[\"1\"],\"$or\":[{\"b\":[\"1\"]},{\"c\":[\"1\"]}]},{\"d\":[\"1\"]}],"
			     "\"e\":{\"$or\":[{\"f\":[\"1\"]},{\"g\":[\"1\"]}]}}"; /* (2 + 1) * 2 = 6 */

	CHECK(parse_text(at_limit, err, sizeof(err)) == LCR_OK);
	CHECK(parse_text(over_limit, err, sizeof(err)) == LCR_ERR_INVALID_PARAMETER);
	CHECK(strstr(err, "more than 1000 rule combinations") != NULL);
	CHECK(parse_text(wide, err, sizeof(err)) == LCR_ERR_INVALID_PARAMETER);
	CHECK(parse_text(wrapping, err, sizeof(err)) == LCR_ERR_INVALID_PARAMETER);
	CHECK(parse_text(nested, err, sizeof(err)) == LCR_OK);
	free(at_limit);
	free(over_limit);
	free(wide);
	free(wrapping);
}

static void test_parse_reads_only_len_bytes(void)
{
	const char text[] = "{\"source\":[\"aws.ec2\"]}trailing garbage";
	struct event_pattern *pattern = NULL;
	json_t *event = json_pack("{s:s}", "source", "aws.ec2");
	char err[256] = "";

	CHECK(event_pattern_parse(text, strlen("{\"source\":[\"aws.ec2\"]}"), &pattern, err, sizeof(err)) == LCR_OK);
	CHECK(pattern != NULL && event_pattern_match(pattern, event));
	event_pattern_free(pattern);
	json_decref(event);
}

static void test_parse_error_without_buffer(void)
{
	struct event_pattern *pattern = NULL;

	CHECK(event_pattern_parse("[]", 2, &pattern, NULL, 0) == LCR_ERR_INVALID_PARAMETER);
	CHECK(pattern == NULL);
	CHECK(event_pattern_parse(NULL, 0, &pattern, NULL, 0) == LCR_ERR_INVALID_PARAMETER);
	event_pattern_free(NULL);
}

static void test_error_location_truncated(void)
{
	char key[300], text[800], err[1024] = "";

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(text, sizeof(text), "{\"%s\":{\"%s\":5}}", key, key);
	CHECK(parse_text(text, err, sizeof(err)) == LCR_ERR_INVALID_PARAMETER);
	CHECK(strstr(err, "must be an object or an array at kkk") != NULL);
}

/* The deepest array nesting jansson parses is still searched to the bottom. */
static void test_match_deep_parsed_array(void)
{
	const int depth = 2040;
	char *text = malloc(2 * (size_t)depth + 32);
	struct event_pattern *pattern = NULL;
	json_error_t jerr;
	json_t *event;
	size_t n = 0;
	char err[256] = "";

	n += (size_t)sprintf(text, "{\"a\":");
	for (int i = 0; i < depth; i++)
		text[n++] = '[';
	n += (size_t)sprintf(text + n, "\"x\"");
	for (int i = 0; i < depth; i++)
		text[n++] = ']';
	text[n++] = '}';
	text[n] = '\0';
	event = json_loads(text, 0, &jerr);
	CHECK(event != NULL);
	CHECK(pattern_parse_quoted("{'a':['x']}", &pattern, err, sizeof(err)) == LCR_OK);
	CHECK(pattern != NULL && event_pattern_match(pattern, event));
	event_pattern_free(pattern);
	json_decref(event);
	free(text);
}

/* Events that are not objects, contain invalid UTF-8 or NUL bytes, or nest
 * arrays deeply must not crash any matcher. */
static void test_match_odd_events(void)
{
	const char *patterns[] = {
		"{\"a\":[{\"equals-ignore-case\":\"x\"},{\"suffix\":{\"equals-ignore-case\":\"\\u00e9\"}}]}",
		"{\"a\":[{\"cidr\":\"10.0.0.0/8\"},{\"wildcard\":\"*x*\"},{\"prefix\":{\"equals-ignore-case\":\"x\"}}]}",
		"{\"a\":{\"b\":[{\"exists\":false}]}}",
		"{\"a\":[{\"numeric\":[\">\",0]},{\"anything-but\":{\"suffix\":\"z\"}}]}",
	};
	const char invalid_utf8[] = {'x', (char)0xC3, 'y', (char)0xE2, (char)0x82, (char)0xFF, (char)0xF0};
	const char with_nul[] = {'1', '0', '.', '0', '.', '0', '.', '1', '\0', 'x'};
	json_t *deep = json_string("x"), *events[8];
	size_t nevents = 0;

	for (int i = 0; i < 5000; i++)
		deep = json_pack("[o]", deep);
	events[nevents++] = json_pack("{s:o}", "a", json_stringn_nocheck(invalid_utf8, sizeof(invalid_utf8)));
	events[nevents++] = json_pack("{s:o}", "a", json_stringn(with_nul, sizeof(with_nul)));
	events[nevents++] = json_pack("{s:o}", "a", deep);
	events[nevents++] = json_pack("[{s:s}]", "a", "x");
	events[nevents++] = json_string("a");
	events[nevents++] = json_pack("{s:{s:[[],{},null]}}", "a", "b");
	events[nevents++] = NULL;
	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		struct event_pattern *pattern = NULL;
		char err[256] = "";

		CHECK(event_pattern_parse(patterns[p], strlen(patterns[p]), &pattern, err, sizeof(err)) == LCR_OK);
		if (pattern == NULL) {
			fprintf(stderr, "pattern %zu rejected: %s\n", p, err);
			continue;
		}
		for (size_t e = 0; e < nevents; e++)
			(void)event_pattern_match(pattern, events[e]);
		CHECK(!event_pattern_match(pattern, NULL));
		event_pattern_free(pattern);
	}
	for (size_t e = 0; e < nevents; e++)
		json_decref(events[e]);
}

/* A small deterministic generator for random events (xorshift32). */
static uint32_t random_next(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static json_t *random_value(uint32_t *state, int depth)
{
	static const char *const keys[] = {"source", "detail", "state", "a", "b", "c-count", "ip", "items", "$or"};
	static const char *const strings[] = {"", "aws.ec2", "running", "10.0.0.5", "2001:db8::1", "PROD-x",
					      "\xc3\x89t\xc3\xa9", "a*b", "x", "init"};
	uint32_t kind = random_next(state) % (depth > 4 ? 6 : 8);
	json_t *value;

	switch (kind) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(random_next(state) % 2);
	case 2:
		return json_integer((json_int_t)(random_next(state) % 20) - 5);
	case 3:
		return json_real((double)(random_next(state) % 2000) / 7.0 - 50.0);
	case 4:
	case 5:
		return json_string(strings[random_next(state) % (sizeof(strings) / sizeof(strings[0]))]);
	case 6:
		value = json_array();
		for (uint32_t n = random_next(state) % 4; n > 0; n--)
			json_array_append_new(value, random_value(state, depth + 1));
		return value;
	default:
		value = json_object();
		for (uint32_t n = random_next(state) % 5; n > 0; n--)
			json_object_set_new(value, keys[random_next(state) % (sizeof(keys) / sizeof(keys[0]))],
					    random_value(state, depth + 1));
		return value;
	}
}

/* Every valid pattern of the table against random events: no crash under the
 * sanitizers, and the same result twice. */
static void test_match_random_events(void)
{
	uint32_t state = 0x9e3779b9u;
	size_t stable = 0, total = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct event_pattern *pattern = NULL;
		char err[512];

		if (cases[i].expected == EXPECT_INVALID ||
		    pattern_parse_quoted(cases[i].pattern, &pattern, err, sizeof(err)) != LCR_OK)
			continue;
		for (int n = 0; n < 200; n++) {
			json_t *event = random_value(&state, 0);

			total++;
			if (event_pattern_match(pattern, event) == event_pattern_match(pattern, event))
				stable++;
			json_decref(event);
		}
		event_pattern_free(pattern);
	}
	CHECK(total > 0);
	CHECK(stable == total);
}

int main(void)
{
	test_pattern_cases();
	test_or_combination_limit();
	test_parse_reads_only_len_bytes();
	test_parse_error_without_buffer();
	test_error_location_truncated();
	test_match_deep_parsed_array();
	test_match_odd_events();
	test_match_random_events();
	printf("%zu table cases\n", sizeof(cases) / sizeof(cases[0]));
	return check_summary();
}
