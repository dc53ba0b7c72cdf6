/*
 * event_pattern.c - EventBridge event patterns: parse, validate and match.
 *
 * Pure code, no storage.  The language is the one the EventBridge user guide
 * describes ("Event patterns", "Content filtering", "Arrays in event
 * patterns").  Where the guide is silent, this file follows AWS's open-source
 * Event Ruler library (github.com/aws/event-ruler), which implements the same
 * language.  Each such choice is marked where it is made.
 *
 * Parsing turns the pattern document into a tree:
 * - a node is one JSON object of the pattern.  Its fields are ANDed.  A field
 *   either continues into a child node, matched against the event's object
 *   (or array of objects) under that key, or is a leaf: a list of matchers,
 *   ORed;
 * - "$or" in a node contains two or more alternative nodes.  They are tested
 *   against the same event object and at least one must match;
 * - a matcher tests one scalar event value (string, number, true, false or
 *   null): an exact value, prefix, suffix, equals-ignore-case, wildcard,
 *   numeric range, cidr, exists, or anything-but over a list of strings,
 *   numbers, prefixes, suffixes, ignore-case strings or wildcards.
 *
 * Matching rules:
 * - an event array matches when any element matches.  Where the pattern
 *   continues into an array of objects, one element must match the whole
 *   sub-pattern, so fields from different elements never combine (Event
 *   Ruler's array-consistent matching).  Nested arrays are flattened;
 * - a leaf whose event field is missing, is an object, or is an array with no
 *   scalar in it has no value.  Only {"exists": false} matches it, so
 *   anything-but needs the field to be present;
 * - exact values compare by JSON type and value: "5" is not 5, null is not "",
 *   and the integer 300 is not the real 300.0.
 *
 * NOTE: the guide states that 300, 300.0 and 3.0e2 are all different.
 * jansson keeps only the parsed double, so 300.0 and 3.0e2 are equal here.
 * Real EventBridge differs the other way, because LocalStack's recorded AWS
 * runs show [300] matching 300.0.
 *
 * NOTE: Event Ruler joins nested keys with '.', so AWS also matches
 * {"a": {"b": ["x"]}} against {"a.b": "x"} and the reverse.  This matcher
 * follows the structure only.
 *
 * The pattern keeps its parsed jansson document, and matchers borrow strings
 * from it.  Matching only reads the tree, so one pattern may be matched from
 * many threads at once.
 */
#include "event_pattern.h"

#include <arpa/inet.h>
#include <assert.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include <jansson.h>

#include "../common/status.h"

/* Numeric matching limits from the EventBridge user guide: values between
 * -5.0e9 and 5.0e9 inclusive, 15 significant digits, six after the point. */
#define NUMERIC_LIMIT 5.0e9
#define NUMERIC_MAX_SIGNIFICANT_DIGITS 15
#define NUMERIC_MAX_DECIMAL_PLACES 6

/* PutRule and TestEventPattern raise InvalidEventPatternException when "$or"
 * expands a pattern into more than 1000 rule combinations. */
#define OR_COMBINATIONS_MAX 1000UL

/* How many arrays inside arrays the matcher descends through.  jansson 2.14
 * parses at most 2048 levels of nesting, so a parsed event is searched in
 * full.  The bound stops a cyclic value built in memory from recursing
 * without end. */
#define EVENT_ARRAY_DEPTH_MAX 2048

/* Maximum length of the pattern location that error messages name, such as
 * detail.$or[1].state[0].  A longer location is cut short. */
#define PATTERN_PATH_MAX 512

/* Case-insensitive comparisons use Unicode simple case mappings. */
#define CASE_LOCALE_NAME "C.UTF-8"

/* Base of the values, all above U+10FFFF, that bytes outside valid UTF-8
 * decode to. */
#define UTF8_INVALID_BASE 0x110000u

enum match_kind {
	MATCH_EQUALS,              /* same JSON type and value */
	MATCH_NUMBER_EQUALS,       /* numerically equal, for anything-but number lists */
	MATCH_PREFIX,
	MATCH_PREFIX_IGNORE_CASE,
	MATCH_SUFFIX,
	MATCH_SUFFIX_IGNORE_CASE,
	MATCH_EQUALS_IGNORE_CASE,
	MATCH_WILDCARD,
	MATCH_NUMERIC,
	MATCH_CIDR,
	MATCH_EXISTS,
};

/* A wildcard split at its unescaped '*' into npieces literal pieces, stored
 * back to back in bytes with escapes removed. */
struct wildcard {
	char *bytes;
	size_t total_len;
	size_t *piece_len;
	size_t npieces;
};

struct operand {
	const json_t *value;      /* borrowed from the pattern document */
	double number;            /* MATCH_NUMBER_EQUALS */
	struct wildcard wildcard; /* MATCH_WILDCARD */
};

/* low and high are -INFINITY and INFINITY when the expression leaves that
 * side open-ended. */
struct numeric_range {
	double low, high;
	bool low_exclusive, high_exclusive;
};

struct cidr_block {
	unsigned char address[16];
	size_t address_len; /* 4 for IPv4, 16 for IPv6 */
	unsigned prefix_bits;
};

struct matcher {
	enum match_kind kind;
	bool anything_but; /* match a value that none of the operands matches */
	struct operand *operands;
	size_t noperands;
	struct numeric_range range; /* MATCH_NUMERIC */
	struct cidr_block cidr;     /* MATCH_CIDR */
	bool exists;                /* MATCH_EXISTS */
};

struct pattern_field {
	const char *name;           /* borrowed from the pattern document */
	struct pattern_node *child; /* NULL for a leaf */
	struct matcher *matchers;   /* a leaf's matchers */
	size_t nmatchers;
};

struct pattern_node {
	struct pattern_field *fields;
	size_t nfields;
	struct pattern_node *alternatives; /* "$or" */
	size_t nalternatives;
};

struct event_pattern {
	json_t *document;
	struct pattern_node root;
};

struct parse_context {
	char path[PATTERN_PATH_MAX];
	size_t path_len;
	char *err;
	size_t errlen;
};

/* Keys that may not appear inside a "$or" alternative.  Event Ruler reserves
 * the match types, the numeric operators and names kept for future use. */
static const char *const or_reserved_keys[] = {
	"exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard",
	"numeric", "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard", "not-equals-ignore-case",
	"date-after", "date-on-or-after", "date-before", "date-on-or-before", "in-date-range",
	"ip-address-in-range", "ip-address-not-in-range",
};

static pthread_once_t case_locale_once = PTHREAD_ONCE_INIT;
static locale_t case_locale;

/* ---- Errors and locations ---- */

static int pattern_fail(struct parse_context *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int pattern_fail(struct parse_context *ctx, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (ctx->path_len == 0)
		return lcr_fail(LCR_ERR_INVALID_PARAMETER, ctx->err, ctx->errlen,
				"Event pattern is not valid. Reason: %s", reason);
	return lcr_fail(LCR_ERR_INVALID_PARAMETER, ctx->err, ctx->errlen,
			"Event pattern is not valid. Reason: %s at %s", reason, ctx->path);
}

static int out_of_memory(struct parse_context *ctx)
{
	return lcr_fail(LCR_ERR_INTERNAL, ctx->err, ctx->errlen, "out of memory while parsing an event pattern");
}

/* Append to the location and return its previous length for path_pop(). */
static size_t path_push(struct parse_context *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t path_push(struct parse_context *ctx, const char *fmt, ...)
{
	size_t saved = ctx->path_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ctx->path + saved, sizeof(ctx->path) - saved, fmt, ap);
	va_end(ap);
	if (n > 0)
		ctx->path_len = strlen(ctx->path);
	return saved;
}

static size_t path_push_key(struct parse_context *ctx, const char *key)
{
	return ctx->path_len == 0 ? path_push(ctx, "%s", key) : path_push(ctx, ".%s", key);
}

static void path_pop(struct parse_context *ctx, size_t saved)
{
	ctx->path_len = saved;
	ctx->path[saved] = '\0';
}

/* ---- Freeing ---- */

static void matcher_release(struct matcher *m)
{
	for (size_t i = 0; i < m->noperands; i++) {
		free(m->operands[i].wildcard.bytes);
		free(m->operands[i].wildcard.piece_len);
	}
	free(m->operands);
}

static void node_release(struct pattern_node *node)
{
	for (size_t i = 0; i < node->nfields; i++) {
		struct pattern_field *field = &node->fields[i];

		if (field->child != NULL) {
			node_release(field->child);
			free(field->child);
		}
		for (size_t j = 0; j < field->nmatchers; j++)
			matcher_release(&field->matchers[j]);
		free(field->matchers);
	}
	free(node->fields);
	for (size_t i = 0; i < node->nalternatives; i++)
		node_release(&node->alternatives[i]);
	free(node->alternatives);
}

void event_pattern_free(struct event_pattern *p)
{
	if (p == NULL)
		return;
	node_release(&p->root);
	json_decref(p->document);
	free(p);
}

/* ---- Operand parsing ---- */

static int matcher_alloc_operands(struct parse_context *ctx, struct matcher *m, size_t n)
{
	m->operands = calloc(n, sizeof(*m->operands));
	if (m->operands == NULL)
		return out_of_memory(ctx);
	m->noperands = n;
	return LCR_OK;
}

/* Write the shortest "%.*e" text that reads back as number and return its
 * count of significant digits. */
static int shortest_decimal(double number, char *out, size_t outlen)
{
	for (int digits = 1; digits < 17; digits++) {
		snprintf(out, outlen, "%.*e", digits - 1, number);
		if (strtod(out, NULL) == number)
			return digits;
	}
	snprintf(out, outlen, "%.16e", number);
	return 17;
}

/*
 * Check a number in a numeric expression or an anything-but list against the
 * numeric matching limits.  jansson keeps only the parsed double, so digits
 * are counted on the shortest decimal that reads back as the same double.
 * That decimal has the literal's digits whenever the literal has 15
 * significant digits or fewer (DBL_DIG is 15).  owner is the operator or
 * filter the number belongs to, for messages.
 */
static int parse_number_operand(struct parse_context *ctx, json_t *value, const char *owner, double *out)
{
	char text[40];
	const char *exponent;
	int digits, decimals;
	double number;

	if (!json_is_number(value))
		return pattern_fail(ctx, "Value of %s must be numeric", owner);
	number = json_number_value(value);
	digits = shortest_decimal(number, text, sizeof(text));
	if (!isfinite(number) || fabs(number) > NUMERIC_LIMIT)
		return pattern_fail(ctx, "%s is outside the numeric matching range -5.0e9 to 5.0e9", text);
	if (digits > NUMERIC_MAX_SIGNIFICANT_DIGITS)
		return pattern_fail(ctx, "%s has more than %d significant digits", text, NUMERIC_MAX_SIGNIFICANT_DIGITS);
	exponent = strchr(text, 'e');
	decimals = digits - 1 - (exponent != NULL ? atoi(exponent + 1) : 0);
	if (decimals > NUMERIC_MAX_DECIMAL_PLACES)
		return pattern_fail(ctx, "%s has more than %d digits after the decimal point", text,
				    NUMERIC_MAX_DECIMAL_PLACES);
	*out = number;
	return LCR_OK;
}

/*
 * Split a wildcard at its unescaped '*'.  The user guide allows any number of
 * '*' but never two in a row.  "\*" is a literal asterisk and "\\" a literal
 * backslash, and any other escape is invalid.  Positions in messages count
 * from 1.
 *
 * NOTE: AWS also rejects wildcards it finds too complex ("Rule is too
 * complex"), such as an event bus ARN pattern with six '*'.  Its limit
 * is not documented, so this code accepts them.  Matching here is linear in
 * the value's length.
 */
static int parse_wildcard(struct parse_context *ctx, json_t *value, struct wildcard *out)
{
	const char *text = json_string_value(value);
	size_t len = json_string_length(value), n = 0;

	out->bytes = malloc(len + 1);
	out->piece_len = calloc(len + 1, sizeof(*out->piece_len));
	if (out->bytes == NULL || out->piece_len == NULL)
		return out_of_memory(ctx);
	out->npieces = 1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '*') {
			if (i + 1 < len && text[i + 1] == '*')
				return pattern_fail(ctx, "Consecutive wildcard characters at position %zu", i + 1);
			out->npieces++;
			continue;
		}
		if (text[i] == '\\') {
			if (i + 1 >= len || (text[i + 1] != '*' && text[i + 1] != '\\'))
				return pattern_fail(ctx,
						    "Invalid escape character at position %zu (only \\* and \\\\ may be escaped)",
						    i + 1);
			i++;
		}
		out->bytes[n++] = text[i];
		out->piece_len[out->npieces - 1]++;
	}
	out->bytes[n] = '\0';
	out->total_len = n;
	return LCR_OK;
}

/* Parse an IPv4 dotted quad or an IPv6 address into network byte order. */
static bool ip_address_parse(const char *text, size_t len, unsigned char out[16], size_t *out_len)
{
	char buf[64];

	if (len == 0 || len >= sizeof(buf) || memchr(text, '\0', len) != NULL)
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (strchr(buf, ':') != NULL) {
		*out_len = 16;
		return inet_pton(AF_INET6, buf, out) == 1;
	}
	*out_len = 4;
	return inet_pton(AF_INET, buf, out) == 1;
}

/*
 * Parse "address/bits".  Event Ruler allows IPv4 prefixes of up to 31 bits and
 * IPv6 prefixes of up to 127, so a single-address block such as /32 is
 * invalid.  Bits past the prefix in the address are ignored.
 */
static int parse_cidr(struct parse_context *ctx, json_t *value, struct matcher *m)
{
	const char *text = json_string_value(value), *slash;
	size_t len = json_string_length(value), mask_len;
	unsigned bits = 0;

	m->kind = MATCH_CIDR;
	if (text == NULL)
		return pattern_fail(ctx, "cidr match pattern must be a string");
	slash = memchr(text, '/', len);
	if (slash == NULL || memchr(slash + 1, '/', len - (size_t)(slash + 1 - text)) != NULL)
		return pattern_fail(ctx, "Malformed CIDR, one '/' required: \"%s\"", text);
	mask_len = len - (size_t)(slash + 1 - text);
	if (mask_len == 0 || mask_len > 3)
		return pattern_fail(ctx, "Malformed CIDR, mask bits must be an integer: \"%s\"", text);
	for (size_t i = 0; i < mask_len; i++) {
		if (slash[1 + i] < '0' || slash[1 + i] > '9')
			return pattern_fail(ctx, "Malformed CIDR, mask bits must be an integer: \"%s\"", text);
		bits = bits * 10 + (unsigned)(slash[1 + i] - '0');
	}
	if (!ip_address_parse(text, (size_t)(slash - text), m->cidr.address, &m->cidr.address_len))
		return pattern_fail(ctx, "Nonstandard IP address: \"%.*s\"", (int)(slash - text), text);
	if (m->cidr.address_len == 4 && bits > 31)
		return pattern_fail(ctx, "IPv4 mask bits must be less than 32 in \"%s\"", text);
	if (m->cidr.address_len == 16 && bits > 127)
		return pattern_fail(ctx, "IPv6 mask bits must be less than 128 in \"%s\"", text);
	m->cidr.prefix_bits = bits;
	return LCR_OK;
}

/* ---- Match expression parsing ---- */

static int set_single_operand(struct parse_context *ctx, struct matcher *m, enum match_kind kind, json_t *value)
{
	int status = matcher_alloc_operands(ctx, m, 1);

	m->kind = kind;
	if (status == LCR_OK)
		m->operands[0].value = value;
	return status;
}

/* "prefix" or "suffix": a string, or {"equals-ignore-case": string}. */
static int parse_prefix_or_suffix(struct parse_context *ctx, const char *name, json_t *value,
				  enum match_kind kind, enum match_kind ignore_case_kind, struct matcher *m)
{
	const char *inner;
	json_t *text;

	if (json_is_string(value))
		return set_single_operand(ctx, m, kind, value);
	if (!json_is_object(value))
		return pattern_fail(ctx, "%s match pattern must be a string", name);
	if (json_object_size(value) != 1)
		return pattern_fail(ctx, "%s must have exactly one key, equals-ignore-case", name);
	inner = json_object_iter_key(json_object_iter(value));
	if (strcmp(inner, "equals-ignore-case") != 0)
		return pattern_fail(ctx, "Unsupported %s pattern: %s (only equals-ignore-case is allowed)", name, inner);
	text = json_object_get(value, inner);
	if (!json_is_string(text))
		return pattern_fail(ctx, "equals-ignore-case match pattern must be a string");
	return set_single_operand(ctx, m, ignore_case_kind, text);
}

static int parse_prefix(struct parse_context *ctx, json_t *value, struct matcher *m)
{
	return parse_prefix_or_suffix(ctx, "prefix", value, MATCH_PREFIX, MATCH_PREFIX_IGNORE_CASE, m);
}

static int parse_suffix(struct parse_context *ctx, json_t *value, struct matcher *m)
{
	return parse_prefix_or_suffix(ctx, "suffix", value, MATCH_SUFFIX, MATCH_SUFFIX_IGNORE_CASE, m);
}

static int parse_equals_ignore_case(struct parse_context *ctx, json_t *value, struct matcher *m)
{
	if (!json_is_string(value))
		return pattern_fail(ctx, "equals-ignore-case match pattern must be a string");
	return set_single_operand(ctx, m, MATCH_EQUALS_IGNORE_CASE, value);
}

static int parse_wildcard_filter(struct parse_context *ctx, json_t *value, struct matcher *m)
{
	int status;

	if (!json_is_string(value))
		return pattern_fail(ctx, "wildcard match pattern must be a string");
	status = set_single_operand(ctx, m, MATCH_WILDCARD, value);
	if (status != LCR_OK)
		return status;
	return parse_wildcard(ctx, value, &m->operands[0].wildcard);
}

static int parse_exists(struct parse_context *ctx, json_t *value, struct matcher *m)
{
	m->kind = MATCH_EXISTS;
	if (!json_is_boolean(value))
		return pattern_fail(ctx, "exists match pattern must be either true or false");
	m->exists = json_is_true(value);
	return LCR_OK;
}

static int parse_cidr_filter(struct parse_context *ctx, json_t *value, struct matcher *m)
{
	return parse_cidr(ctx, value, m);
}

static bool numeric_operator_known(const char *op)
{
	return strcmp(op, "=") == 0 || strcmp(op, ">") == 0 || strcmp(op, ">=") == 0 || strcmp(op, "<") == 0 ||
	       strcmp(op, "<=") == 0;
}

/*
 * "numeric": ["=", n], [">" or ">=", n], ["<" or "<=", n], or a lower bound
 * followed by an upper bound: [">" or ">=", low, "<" or "<=", high] with
 * low < high.  The guide only shows examples, so this order follows Event
 * Ruler.
 */
static int parse_numeric(struct parse_context *ctx, json_t *value, struct matcher *m)
{
	const char *op, *upper_op;
	size_t n = json_array_size(value);
	double number;
	int status;

	m->kind = MATCH_NUMERIC;
	m->range.low = -INFINITY;
	m->range.high = INFINITY;
	if (!json_is_array(value))
		return pattern_fail(ctx, "Value of numeric must be an array");
	op = json_string_value(json_array_get(value, 0));
	if (op == NULL || !numeric_operator_known(op))
		return pattern_fail(ctx, "numeric must start with one of the operators =, >, >=, <, <=");
	status = parse_number_operand(ctx, json_array_get(value, 1), op, &number);
	if (status != LCR_OK)
		return status;
	if (op[0] == '=') {
		m->range.low = m->range.high = number;
	} else if (op[0] == '<') {
		m->range.high = number;
		m->range.high_exclusive = op[1] == '\0';
	} else {
		m->range.low = number;
		m->range.low_exclusive = op[1] == '\0';
	}
	if (n == 2)
		return LCR_OK;
	if (op[0] != '>' || n > 4)
		return pattern_fail(ctx, "Too many elements in numeric expression, which allows an upper bound "
				    "(< or <=) only after a lower bound (> or >=)");
	upper_op = json_string_value(json_array_get(value, 2));
	if (upper_op == NULL || (strcmp(upper_op, "<") != 0 && strcmp(upper_op, "<=") != 0))
		return pattern_fail(ctx, "Bad numeric range operator: %s (an upper bound needs < or <=)",
				    upper_op != NULL ? upper_op : "(not a string)");
	status = parse_number_operand(ctx, json_array_get(value, 3), upper_op, &number);
	if (status != LCR_OK)
		return status;
	m->range.high = number;
	m->range.high_exclusive = upper_op[1] == '\0';
	if (!(m->range.low < m->range.high))
		return pattern_fail(ctx, "Bottom must be less than top in a numeric range");
	return LCR_OK;
}

/* anything-but with a list: all strings or all numbers, never empty. */
static int parse_anything_but_list(struct parse_context *ctx, json_t *list, struct matcher *m)
{
	size_t n = json_array_size(list);
	bool numbers = json_is_number(json_array_get(list, 0));
	int status;

	if (n == 0)
		return pattern_fail(ctx, "Empty arrays are not allowed in anything-but");
	m->kind = numbers ? MATCH_NUMBER_EQUALS : MATCH_EQUALS;
	status = matcher_alloc_operands(ctx, m, n);
	for (size_t i = 0; i < n && status == LCR_OK; i++) {
		json_t *item = json_array_get(list, i);

		if (!json_is_string(item) && !json_is_number(item))
			return pattern_fail(ctx, "Inside an anything-but list only strings or numbers are allowed");
		if (json_is_number(item) != numbers)
			return pattern_fail(ctx, "Inside an anything-but list, either all values must be numbers or all "
					    "must be strings");
		m->operands[i].value = item;
		if (numbers)
			status = parse_number_operand(ctx, item, "anything-but", &m->operands[i].number);
	}
	return status;
}

/* anything-but with {"prefix" | "suffix" | "equals-ignore-case" | "wildcard":
 * a string or a list of strings}. */
static int parse_anything_but_object(struct parse_context *ctx, json_t *object, struct matcher *m)
{
	const char *name;
	json_t *value;
	size_t n;
	int status;

	if (json_object_size(object) != 1)
		return pattern_fail(ctx, "anything-but object must have exactly one key: prefix, suffix, "
				    "equals-ignore-case or wildcard");
	name = json_object_iter_key(json_object_iter(object));
	value = json_object_get(object, name);
	if (strcmp(name, "prefix") == 0)
		m->kind = MATCH_PREFIX;
	else if (strcmp(name, "suffix") == 0)
		m->kind = MATCH_SUFFIX;
	else if (strcmp(name, "equals-ignore-case") == 0)
		m->kind = MATCH_EQUALS_IGNORE_CASE;
	else if (strcmp(name, "wildcard") == 0)
		m->kind = MATCH_WILDCARD;
	else
		return pattern_fail(ctx, "Unsupported anything-but pattern: %s", name);

	n = json_is_array(value) ? json_array_size(value) : 1;
	if (!json_is_string(value) && !json_is_array(value))
		return pattern_fail(ctx, "anything-but %s must be a string or a list of strings", name);
	if (n == 0)
		return pattern_fail(ctx, "Empty arrays are not allowed in anything-but %s", name);
	status = matcher_alloc_operands(ctx, m, n);
	for (size_t i = 0; i < n && status == LCR_OK; i++) {
		json_t *item = json_is_array(value) ? json_array_get(value, i) : value;

		if (!json_is_string(item))
			return pattern_fail(ctx, "anything-but %s must be a string or a list of strings", name);
		if ((m->kind == MATCH_PREFIX || m->kind == MATCH_SUFFIX) && json_string_length(item) == 0)
			return pattern_fail(ctx, "anything-but %s must not be empty", name);
		m->operands[i].value = item;
		if (m->kind == MATCH_WILDCARD)
			status = parse_wildcard(ctx, item, &m->operands[i].wildcard);
	}
	return status;
}

static int parse_anything_but(struct parse_context *ctx, json_t *value, struct matcher *m)
{
	int status;

	m->anything_but = true;
	if (json_is_string(value))
		return set_single_operand(ctx, m, MATCH_EQUALS, value);
	if (json_is_number(value)) {
		status = set_single_operand(ctx, m, MATCH_NUMBER_EQUALS, value);
		if (status != LCR_OK)
			return status;
		return parse_number_operand(ctx, value, "anything-but", &m->operands[0].number);
	}
	if (json_is_array(value))
		return parse_anything_but_list(ctx, value, m);
	if (json_is_object(value))
		return parse_anything_but_object(ctx, value, m);
	return pattern_fail(ctx, "Value of anything-but must be a string, a number, a list of strings or numbers, "
			    "or an object with prefix, suffix, equals-ignore-case or wildcard");
}

static const struct {
	const char *name;
	int (*parse)(struct parse_context *ctx, json_t *value, struct matcher *m);
} filter_parsers[] = {
	{"prefix", parse_prefix},
	{"suffix", parse_suffix},
	{"equals-ignore-case", parse_equals_ignore_case},
	{"wildcard", parse_wildcard_filter},
	{"anything-but", parse_anything_but},
	{"numeric", parse_numeric},
	{"exists", parse_exists},
	{"cidr", parse_cidr_filter},
};

/* A content filter: an object with exactly one known key. */
static int parse_filter(struct parse_context *ctx, json_t *object, struct matcher *m)
{
	const char *name;

	if (json_object_size(object) != 1)
		return pattern_fail(ctx, "A match expression must have exactly one key, such as prefix or numeric");
	name = json_object_iter_key(json_object_iter(object));
	for (size_t i = 0; i < sizeof(filter_parsers) / sizeof(filter_parsers[0]); i++) {
		if (strcmp(name, filter_parsers[i].name) == 0)
			return filter_parsers[i].parse(ctx, json_object_get(object, name), m);
	}
	return pattern_fail(ctx, "Unrecognized match type %s", name);
}

/* A leaf: a non-empty array of exact values and content filters. */
static int parse_leaf(struct parse_context *ctx, json_t *array, struct pattern_field *field)
{
	size_t n = json_array_size(array);
	int status = LCR_OK;

	if (n == 0)
		return pattern_fail(ctx, "Empty arrays are not allowed");
	field->matchers = calloc(n, sizeof(*field->matchers));
	if (field->matchers == NULL)
		return out_of_memory(ctx);
	for (size_t i = 0; i < n && status == LCR_OK; i++) {
		json_t *item = json_array_get(array, i);
		struct matcher *m = &field->matchers[field->nmatchers++];
		size_t saved = path_push(ctx, "[%zu]", i);

		if (json_is_object(item))
			status = parse_filter(ctx, item, m);
		else if (json_is_array(item))
			status = pattern_fail(ctx, "Match value must be a string, number, true, false, null or a "
					      "match expression object");
		else
			status = set_single_operand(ctx, m, MATCH_EQUALS, item);
		path_pop(ctx, saved);
	}
	return status;
}

/* ---- Structure parsing ---- */

static unsigned long combinations_multiply(unsigned long a, unsigned long b)
{
	if (a != 0 && b > (OR_COMBINATIONS_MAX + 1) / a)
		return OR_COMBINATIONS_MAX + 1;
	return a * b;
}

static bool or_reserved_key(const char *key)
{
	for (size_t i = 0; i < sizeof(or_reserved_keys) / sizeof(or_reserved_keys[0]); i++) {
		if (strcmp(key, or_reserved_keys[i]) == 0)
			return true;
	}
	return false;
}

static int parse_node(struct parse_context *ctx, json_t *object, bool inside_or, struct pattern_node *out,
		      unsigned long *out_combinations);

/* "$or": an array of at least two objects.  Its rule combinations are the
 * sum of its alternatives' combinations. */
static int parse_or(struct parse_context *ctx, json_t *array, struct pattern_node *node,
		    unsigned long *out_combinations)
{
	size_t n = json_array_size(array);
	unsigned long sum = 0, combinations;
	int status = LCR_OK;

	if (!json_is_array(array) || n < 2)
		return pattern_fail(ctx, "$or must be an array of at least 2 objects");
	node->alternatives = calloc(n, sizeof(*node->alternatives));
	if (node->alternatives == NULL)
		return out_of_memory(ctx);
	for (size_t i = 0; i < n && status == LCR_OK; i++) {
		json_t *item = json_array_get(array, i);
		size_t saved = path_push(ctx, "[%zu]", i);

		if (!json_is_object(item))
			status = pattern_fail(ctx, "Only objects are allowed in a $or array");
		else
			status = parse_node(ctx, item, true, &node->alternatives[node->nalternatives++], &combinations);
		if (status == LCR_OK)
			sum = sum + combinations > OR_COMBINATIONS_MAX ? OR_COMBINATIONS_MAX + 1 : sum + combinations;
		path_pop(ctx, saved);
	}
	*out_combinations = sum;
	return status;
}

static int parse_field(struct parse_context *ctx, const char *key, json_t *value, bool inside_or,
		       struct pattern_field *field, unsigned long *out_combinations)
{
	field->name = key;
	*out_combinations = 1;
	if (inside_or && or_reserved_key(key))
		return pattern_fail(ctx, "%s is a reserved name that cannot be used as a field inside $or", key);
	if (json_is_array(value))
		return parse_leaf(ctx, value, field);
	if (!json_is_object(value))
		return pattern_fail(ctx, "\"%s\" must be an object or an array", key);
	field->child = calloc(1, sizeof(*field->child));
	if (field->child == NULL)
		return out_of_memory(ctx);
	return parse_node(ctx, value, inside_or, field->child, out_combinations);
}

/*
 * Parse one pattern object.  An empty object adds no condition, because AWS
 * accepts {"automations": {}} and matches it, although Event Ruler's compiler
 * rejects empty objects.
 */
static int parse_node(struct parse_context *ctx, json_t *object, bool inside_or, struct pattern_node *out,
		      unsigned long *out_combinations)
{
	unsigned long combinations = 1, part;
	const char *key;
	json_t *value;
	int status = LCR_OK;

	out->fields = calloc(json_object_size(object) + 1, sizeof(*out->fields));
	if (out->fields == NULL)
		return out_of_memory(ctx);
	json_object_foreach(object, key, value) {
		size_t saved = path_push_key(ctx, key);

		if (strcmp(key, "$or") == 0)
			status = parse_or(ctx, value, out, &part);
		else
			status = parse_field(ctx, key, value, inside_or, &out->fields[out->nfields++], &part);
		path_pop(ctx, saved);
		if (status != LCR_OK)
			return status;
		combinations = combinations_multiply(combinations, part);
	}
	*out_combinations = combinations;
	return LCR_OK;
}

int event_pattern_parse(const char *text, size_t len, struct event_pattern **out, char *err, size_t errlen)
{
	struct parse_context ctx = {.err = err, .errlen = errlen};
	struct event_pattern *pattern = NULL;
	unsigned long combinations = 0;
	json_error_t jerr;
	int status;

	assert(out != NULL);
	*out = NULL;
	if (text == NULL)
		return pattern_fail(&ctx, "the pattern text is missing");
	pattern = calloc(1, sizeof(*pattern));
	if (pattern == NULL)
		return out_of_memory(&ctx);
	pattern->document = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	if (pattern->document == NULL) {
		status = pattern_fail(&ctx, "invalid JSON: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
		goto out;
	}
	if (!json_is_object(pattern->document)) {
		status = pattern_fail(&ctx, "Filter is not an object");
		goto out;
	}
	status = parse_node(&ctx, pattern->document, false, &pattern->root, &combinations);
	if (status == LCR_OK && combinations > OR_COMBINATIONS_MAX)
		status = pattern_fail(&ctx, "$or expands the pattern into more than %lu rule combinations "
				      "(use fewer $or alternatives)", OR_COMBINATIONS_MAX);
	if (status == LCR_OK) {
		*out = pattern;
		pattern = NULL;
	}
out:
	event_pattern_free(pattern);
	return status;
}

/* ---- Value tests ---- */

/* Decode the UTF-8 character at *pos and advance past it.  A byte that does
 * not start a valid sequence decodes to UTF8_INVALID_BASE + byte, which only
 * equals itself. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *pos)
{
	size_t i = *pos, need;
	uint32_t c = s[i], min;

	if (c < 0x80) {
		*pos = i + 1;
		return c;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		min = 0x80;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		min = 0x800;
		c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		min = 0x10000;
		c &= 0x07;
	} else {
		*pos = i + 1;
		return UTF8_INVALID_BASE + s[i];
	}
	for (size_t k = 1; k <= need; k++) {
		if (i + k >= len || (s[i + k] & 0xC0) != 0x80) {
			*pos = i + 1;
			return UTF8_INVALID_BASE + s[i];
		}
		c = (c << 6) | (s[i + k] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		*pos = i + 1;
		return UTF8_INVALID_BASE + s[i];
	}
	*pos = i + need + 1;
	return c;
}

static void case_locale_init(void)
{
	case_locale = newlocale(LC_CTYPE_MASK, CASE_LOCALE_NAME, (locale_t)0);
}

/*
 * Whether an event character equals a pattern character ignoring case.  Like
 * Event Ruler, the event character may be the pattern character's lower-case
 * or upper-case form (simple case mappings, one character each).  Without the
 * C.UTF-8 locale only ASCII letters fold.
 */
static bool chars_equal_ignore_case(uint32_t pattern_char, uint32_t event_char)
{
	if (pattern_char == event_char)
		return true;
	if (pattern_char < 0x80 && event_char < 0x80) {
		uint32_t a = pattern_char >= 'A' && pattern_char <= 'Z' ? pattern_char + 32 : pattern_char;
		uint32_t b = event_char >= 'A' && event_char <= 'Z' ? event_char + 32 : event_char;

		return a == b;
	}
	if (case_locale == (locale_t)0 || pattern_char >= UTF8_INVALID_BASE || event_char >= UTF8_INVALID_BASE)
		return false;
	return (uint32_t)towlower_l((wint_t)pattern_char, case_locale) == event_char ||
	       (uint32_t)towupper_l((wint_t)pattern_char, case_locale) == event_char;
}

static size_t utf8_count(const char *text, size_t len)
{
	size_t count = 0;

	for (size_t pos = 0; pos < len; count++)
		utf8_next((const unsigned char *)text, len, &pos);
	return count;
}

/* Compare the event text, from character number skip on, with the pattern
 * text, ignoring case.  With whole set, the event text must end where the
 * pattern does.  Otherwise the pattern only has to be a prefix. */
static bool text_equals_ignore_case(const char *text, size_t len, size_t skip, const char *pattern, size_t plen,
				    bool whole)
{
	const unsigned char *t = (const unsigned char *)text, *p = (const unsigned char *)pattern;
	size_t i = 0, j = 0;

	pthread_once(&case_locale_once, case_locale_init);
	for (size_t k = 0; k < skip && i < len; k++)
		utf8_next(t, len, &i);
	while (j < plen) {
		uint32_t pc, tc;

		if (i >= len)
			return false;
		pc = utf8_next(p, plen, &j);
		tc = utf8_next(t, len, &i);
		if (!chars_equal_ignore_case(pc, tc))
			return false;
	}
	return !whole || i == len;
}

static bool suffix_equals_ignore_case(const char *text, size_t len, const char *suffix, size_t slen)
{
	size_t text_chars = utf8_count(text, len), suffix_chars = utf8_count(suffix, slen);

	if (text_chars < suffix_chars)
		return false;
	return text_equals_ignore_case(text, len, text_chars - suffix_chars, suffix, slen, true);
}

/* '*' matches any run of bytes, so the first piece anchors the start, the
 * last piece the end, and the middle pieces are found leftmost in order. */
static bool wildcard_matches(const struct wildcard *w, const char *text, size_t len)
{
	size_t first = w->piece_len[0], last = w->piece_len[w->npieces - 1], pos, end;
	const char *piece = w->bytes + first;

	if (w->npieces == 1)
		return len == first && memcmp(text, w->bytes, len) == 0;
	if (len < first + last || memcmp(text, w->bytes, first) != 0 ||
	    memcmp(text + len - last, w->bytes + w->total_len - last, last) != 0)
		return false;
	pos = first;
	end = len - last;
	for (size_t i = 1; i + 1 < w->npieces; i++) {
		size_t n = w->piece_len[i];
		const char *found = n == 0 ? text + pos : memmem(text + pos, end - pos, piece, n);

		if (found == NULL)
			return false;
		pos = (size_t)(found - text) + n;
		piece += n;
	}
	return true;
}

/*
 * Numeric filters take JSON numbers only.  An event number outside the
 * -5.0e9 to 5.0e9 range matches no numeric filter, as the guide limits
 * numeric matching to that range.
 */
static bool numeric_matches(const struct numeric_range *range, const json_t *value)
{
	double v;

	if (!json_is_number(value))
		return false;
	v = json_number_value(value);
	if (!(fabs(v) <= NUMERIC_LIMIT))
		return false;
	if (range->low_exclusive ? !(v > range->low) : !(v >= range->low))
		return false;
	return range->high_exclusive ? v < range->high : v <= range->high;
}

static bool cidr_matches(const struct cidr_block *cidr, const json_t *value)
{
	unsigned char address[16];
	size_t address_len, whole_bytes = cidr->prefix_bits / 8;
	unsigned rest = cidr->prefix_bits % 8;

	if (!json_is_string(value) ||
	    !ip_address_parse(json_string_value(value), json_string_length(value), address, &address_len) ||
	    address_len != cidr->address_len)
		return false;
	if (memcmp(address, cidr->address, whole_bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((address[whole_bytes] ^ cidr->address[whole_bytes]) & (0xFF << (8 - rest)) & 0xFF) == 0;
}

static bool operand_matches(enum match_kind kind, const struct operand *o, const json_t *value)
{
	const char *text, *ptext;
	size_t len, plen;

	if (kind == MATCH_EQUALS)
		return json_equal(o->value, value);
	if (kind == MATCH_NUMBER_EQUALS)
		return json_is_number(value) && json_number_value(value) == o->number;
	if (!json_is_string(value))
		return false;
	text = json_string_value(value);
	len = json_string_length(value);
	ptext = json_string_value(o->value);
	plen = json_string_length(o->value);
	switch (kind) {
	case MATCH_PREFIX:
		return len >= plen && memcmp(text, ptext, plen) == 0;
	case MATCH_SUFFIX:
		return len >= plen && memcmp(text + len - plen, ptext, plen) == 0;
	case MATCH_PREFIX_IGNORE_CASE:
		return text_equals_ignore_case(text, len, 0, ptext, plen, false);
	case MATCH_SUFFIX_IGNORE_CASE:
		return suffix_equals_ignore_case(text, len, ptext, plen);
	case MATCH_EQUALS_IGNORE_CASE:
		return text_equals_ignore_case(text, len, 0, ptext, plen, true);
	case MATCH_WILDCARD:
		return wildcard_matches(&o->wildcard, text, len);
	default:
		return false;
	}
}

/* Test one scalar event value.  anything-but accepts any value its operands
 * reject, including values of other types, so {"anything-but": {"prefix":
 * "x"}} accepts 12 and null as AWS does. */
static bool matcher_matches(const struct matcher *m, const json_t *value)
{
	switch (m->kind) {
	case MATCH_EXISTS:
		return m->exists;
	case MATCH_NUMERIC:
		return numeric_matches(&m->range, value);
	case MATCH_CIDR:
		return cidr_matches(&m->cidr, value);
	default:
		break;
	}
	for (size_t i = 0; i < m->noperands; i++) {
		if (operand_matches(m->kind, &m->operands[i], value))
			return !m->anything_but;
	}
	return m->anything_but;
}

/* ---- Structure matching ---- */

/* Try every scalar of an event field (the value, or the scalars in an array,
 * nested arrays flattened) against the leaf's matchers.  *found records
 * whether the field had any scalar at all. */
static bool leaf_values_match(const struct pattern_field *field, const json_t *value, int depth, bool *found)
{
	if (value == NULL || json_is_object(value))
		return false;
	if (json_is_array(value)) {
		if (depth >= EVENT_ARRAY_DEPTH_MAX)
			return false;
		for (size_t i = 0; i < json_array_size(value); i++) {
			if (leaf_values_match(field, json_array_get(value, i), depth + 1, found))
				return true;
		}
		return false;
	}
	*found = true;
	for (size_t i = 0; i < field->nmatchers; i++) {
		if (matcher_matches(&field->matchers[i], value))
			return true;
	}
	return false;
}

static bool leaf_matches(const struct pattern_field *field, const json_t *value)
{
	bool found = false;

	if (leaf_values_match(field, value, 0, &found))
		return true;
	if (found)
		return false;
	for (size_t i = 0; i < field->nmatchers; i++) {
		if (field->matchers[i].kind == MATCH_EXISTS && !field->matchers[i].exists)
			return true;
	}
	return false;
}

static bool object_matches(const struct pattern_node *node, const json_t *object);

/* Match a node against an event value that is not necessarily an object.  An
 * array matches when one element matches the whole node.  A missing value, a
 * scalar or an empty array acts as an object with no fields, so only absence
 * tests ({"exists": false}) can pass below it. */
static bool node_matches(const struct pattern_node *node, const json_t *value, int depth)
{
	size_t n;

	if (!json_is_array(value))
		return object_matches(node, json_is_object(value) ? value : NULL);
	n = json_array_size(value);
	if (n == 0)
		return object_matches(node, NULL);
	if (depth >= EVENT_ARRAY_DEPTH_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (node_matches(node, json_array_get(value, i), depth + 1))
			return true;
	}
	return false;
}

/* object may be NULL, which means every field is missing. */
static bool object_matches(const struct pattern_node *node, const json_t *object)
{
	for (size_t i = 0; i < node->nfields; i++) {
		const struct pattern_field *field = &node->fields[i];
		const json_t *value = object != NULL ? json_object_get(object, field->name) : NULL;
		bool ok = field->child != NULL ? node_matches(field->child, value, 0) : leaf_matches(field, value);

		if (!ok)
			return false;
	}
	if (node->nalternatives == 0)
		return true;
	for (size_t i = 0; i < node->nalternatives; i++) {
		if (object_matches(&node->alternatives[i], object))
			return true;
	}
	return false;
}

bool event_pattern_match(const struct event_pattern *p, const struct json_t *event)
{
	assert(p != NULL);
	if (!json_is_object(event))
		return false;
	return object_matches(&p->root, event);
}
