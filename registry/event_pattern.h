/*
 * event_pattern.h - EventBridge event patterns: parse and match.
 *
 * Pure code.  A pattern mirrors the event's structure; leaves are arrays of
 * allowed values or content filters (prefix, suffix, equals-ignore-case,
 * wildcard, anything-but, numeric, exists, cidr) and "$or" combines
 * sub-patterns, following the EventBridge user guide's semantics.
 */
#ifndef LCR_EVENT_PATTERN_H
#define LCR_EVENT_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

struct json_t;
struct event_pattern;

/* Parse and validate a pattern (JSON text).  On failure returns
 * LCR_ERR_INVALID_PARAMETER with an InvalidEventPatternException-style
 * message naming the location. */
int event_pattern_parse(const char *text, size_t len, struct event_pattern **out, char *err, size_t errlen);
void event_pattern_free(struct event_pattern *p);

/* True when the event (a JSON object) matches. */
bool event_pattern_match(const struct event_pattern *p, const struct json_t *event);

#endif
