/*
 * match.c - matching of actions, resources, ARNs and principals, and the
 * substitution of policy variables.
 *
 * Globs: '*' matches any run of characters and '?' exactly one UTF-8
 * character.  Actions compare case-insensitively (ASCII), ARNs and
 * resources case-sensitively.  A Resource pattern is matched as one string,
 * so a '*' may span colons as IAM allows.  The ARN condition operators
 * match each of the six ARN components separately.
 *
 * Policy variables (Version 2012-10-17 only): "${key}" is replaced by the
 * request's single value of key, "${key, 'default'}" falls back to default
 * when the key is missing, and "${*}", "${?}" and "${$}" stand for those
 * literal characters.  IAM cannot substitute a multi-valued key, so a key
 * with several values counts as missing.  Substituted text never acts as a
 * wildcard: in a glob pattern it is escaped with '\'.
 */
#include "policy_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../common/status.h"

/* Length of the UTF-8 character at s (1 for a stray continuation byte). */
static size_t utf8_char_len(const char *s, size_t avail)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = 1, i = 1;

	if (c >= 0xf0)
		n = 4;
	else if (c >= 0xe0)
		n = 3;
	else if (c >= 0xc0)
		n = 2;

	while (i < n && i < avail && ((unsigned char)s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

static bool chars_equal(char a, char b, bool ignore_case)
{
	if (ignore_case)
		return tolower((unsigned char)a) == tolower((unsigned char)b);
	return a == b;
}

/* Iterative glob matching: on a mismatch the text resumes one character
 * after the point where the latest '*' started matching.  This takes
 * O(plen * tlen) time at worst and no recursion. */
bool policy_glob_match_n(const char *pattern, size_t plen, const char *text, size_t tlen, bool ignore_case,
			 bool escapes)
{
	size_t p = 0, t = 0, star_p = 0, star_t = 0;
	bool have_star = false;

	while (t < tlen) {
		if (p < plen && pattern[p] == '*') {
			have_star = true;
			star_p = ++p;
			star_t = t;
			continue;
		}
		if (p < plen && pattern[p] == '?') {
			p++;
			t += utf8_char_len(text + t, tlen - t);
			continue;
		}
		if (p < plen) {
			size_t lit = escapes && pattern[p] == '\\' && p + 1 < plen ? p + 1 : p;

			if (chars_equal(pattern[lit], text[t], ignore_case)) {
				p = lit + 1;
				t++;
				continue;
			}
		}
		if (!have_star)
			return false;
		star_t += utf8_char_len(text + star_t, tlen - star_t);
		p = star_p;
		t = star_t;
	}
	while (p < plen && pattern[p] == '*')
		p++;
	return p == plen;
}

bool policy_glob_match(const char *pattern, const char *text, bool ignore_case)
{
	return policy_glob_match_n(pattern, strlen(pattern), text, strlen(text), ignore_case, false);
}

/* Split s at its first five unescaped colons into six components; false
 * when s has fewer than six. */
static bool arn_split(const char *s, bool escapes, const char *start[6], size_t len[6])
{
	size_t part = 0;
	const char *p = s;

	start[0] = s;
	for (; *p != '\0' && part < 5; p++) {
		if (escapes && *p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == ':') {
			len[part] = (size_t)(p - start[part]);
			start[++part] = p + 1;
		}
	}
	if (part < 5)
		return false;
	len[5] = strlen(start[5]);
	return true;
}

bool policy_arn_match(const char *pattern, const char *arn, bool escapes)
{
	const char *pstart[6], *astart[6];
	size_t plen[6], alen[6];

	if (!arn_split(arn, false, astart, alen))
		return false;
	/* A lone "*" matches any ARN; any other pattern needs six components. */
	if (strcmp(pattern, "*") == 0)
		return true;
	if (!arn_split(pattern, escapes, pstart, plen))
		return false;
	for (int i = 0; i < 6; i++)
		if (!policy_glob_match_n(pstart[i], plen[i], astart[i], alen[i], false, escapes))
			return false;
	return true;
}

static bool is_account_id(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n == 12 && s[n] == '\0';
}

/* The account of an "arn:aws:iam::<account>:root" entry, or NULL. */
static const char *root_arn_account(const char *entry, char account[13])
{
	size_t n = strlen(entry);

	if (n != 30 || strncmp(entry, "arn:aws:iam::", 13) != 0 || strcmp(entry + 25, ":root") != 0)
		return NULL;
	memcpy(account, entry + 13, 12);
	account[12] = '\0';
	return is_account_id(account) ? account : NULL;
}

bool policy_principal_is_account(const char *entry)
{
	char buffer[13];

	return is_account_id(entry) || root_arn_account(entry, buffer) != NULL;
}

/* One AWS principal entry against the request's principal: "*" matches
 * everyone, an account (id or root ARN) every principal of that account,
 * a user or session ARN itself, and a role ARN also its sessions. */
static bool aws_entry_matches(const char *entry, const struct policy_request *req)
{
	char buffer[13];
	const char *account;

	if (strcmp(entry, "*") == 0)
		return true;
	account = is_account_id(entry) ? entry : root_arn_account(entry, buffer);
	if (account != NULL)
		return req->principal_account != NULL && strcmp(account, req->principal_account) == 0;
	if (req->principal_arn != NULL && strcmp(entry, req->principal_arn) == 0)
		return true;
	return req->principal_role_arn != NULL && strcmp(entry, req->principal_role_arn) == 0;
}

/* Service, Federated and CanonicalUser entries name principals that
 * localecr never authenticates, so only "AWS" entries can match. */
bool policy_principals_match(const struct policy_principals *principals, const struct policy_request *req,
			     const char **out_entry)
{
	*out_entry = NULL;
	if (principals->wildcard) {
		*out_entry = "*";
		return true;
	}
	for (size_t i = 0; i < principals->aws.count; i++) {
		if (aws_entry_matches(principals->aws.items[i], req)) {
			*out_entry = principals->aws.items[i];
			return true;
		}
	}
	return false;
}

const struct policy_key *policy_request_key(const struct policy_request *req, const char *name)
{
	for (size_t i = 0; i < req->nkeys; i++)
		if (req->keys[i].name != NULL && strcasecmp(req->keys[i].name, name) == 0)
			return &req->keys[i];
	return NULL;
}

/* The parts of one "${...}" reference. */
struct variable_ref {
	const char *key;      /* the key name, or the literal character */
	size_t key_len;
	const char *fallback; /* the default value, NULL when none */
	size_t fallback_len;
	bool literal;         /* ${*}, ${?} or ${$} */
	size_t length;        /* of the whole reference, from '$' to '}' */
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse the reference at s, which starts with "${". */
static bool variable_parse(const char *s, struct variable_ref *out, const char **out_problem)
{
	const char *p = s + 2, *end;

	memset(out, 0, sizeof(*out));
	while (is_space(*p))
		p++;
	out->key = p;
	while (*p != '\0' && *p != '}' && *p != ',' && *p != '$' && *p != '{')
		p++;
	end = p;
	while (end > out->key && is_space(end[-1]))
		end--;
	out->key_len = (size_t)(end - out->key);
	if (*p == '$' && out->key_len == 0 && p[1] == '}') {
		out->key = p++;
		out->key_len = 1;
	}
	if (*p == ',') {
		p++;
		while (is_space(*p))
			p++;
		if (*p != '\'') {
			*out_problem = "the default value of a policy variable must be in single quotes";
			return false;
		}
		out->fallback = ++p;
		while (*p != '\0' && *p != '\'')
			p++;
		if (*p != '\'') {
			*out_problem = "unterminated default value in a policy variable";
			return false;
		}
		out->fallback_len = (size_t)(p - out->fallback);
		p++;
		while (is_space(*p))
			p++;
	}
	if (*p != '}') {
		*out_problem = "unterminated policy variable (expected '}')";
		return false;
	}
	if (out->key_len == 0) {
		*out_problem = "empty policy variable name";
		return false;
	}
	out->literal = out->key_len == 1 && strchr("*?$", out->key[0]) != NULL;
	out->length = (size_t)(p + 1 - s);
	return true;
}

bool policy_variables_check(const char *text, char *problem, size_t problemlen)
{
	const char *reason = NULL;
	struct variable_ref ref;

	for (const char *p = strstr(text, "${"); p != NULL; p = strstr(p, "${")) {
		if (!variable_parse(p, &ref, &reason)) {
			snprintf(problem, problemlen, "%s", reason);
			return false;
		}
		p += ref.length;
	}
	return true;
}

/* Append text of length n to out, escaping glob characters in pattern
 * mode so that they match literally. */
static bool append_literal(struct buf *out, const char *text, size_t n, enum policy_expand_mode mode)
{
	for (size_t i = 0; i < n; i++) {
		char c = text[i];

		if (mode == POLICY_EXPAND_PATTERN && (c == '*' || c == '?' || c == '\\') && !buf_append(out, "\\", 1))
			return false;
		if (!buf_append(out, &c, 1))
			return false;
	}
	return true;
}

/* Append policy text that lies outside variables: its wildcards stay
 * wildcards, but in pattern mode a backslash is escaped to stay literal. */
static bool append_literal_outside(struct buf *out, const char *text, size_t n, enum policy_expand_mode mode)
{
	for (size_t i = 0; i < n; i++) {
		if (mode == POLICY_EXPAND_PATTERN && text[i] == '\\' && !buf_append(out, "\\", 1))
			return false;
		if (!buf_append(out, &text[i], 1))
			return false;
	}
	return true;
}

/* Append the value of ref, or set *resolved to false. */
static bool append_variable(struct buf *out, const struct variable_ref *ref, const struct policy_request *req,
			    enum policy_expand_mode mode, bool *resolved)
{
	const struct policy_key *key;
	char name[256];

	if (ref->literal)
		return append_literal(out, ref->key, 1, mode);
	if (ref->key_len < sizeof(name)) {
		memcpy(name, ref->key, ref->key_len);
		name[ref->key_len] = '\0';
		key = policy_request_key(req, name);
		if (key != NULL && key->nvalues == 1 && key->values[0] != NULL)
			return append_literal(out, key->values[0], strlen(key->values[0]), mode);
	}
	if (ref->fallback != NULL)
		return append_literal(out, ref->fallback, ref->fallback_len, mode);
	*resolved = false;
	return true;
}

int policy_variables_expand(const char *text, const struct policy_request *req, enum policy_expand_mode mode,
			    struct buf *out, bool *out_resolved)
{
	const char *p = text, *next, *reason;
	struct variable_ref ref;

	out->len = 0;
	*out_resolved = true;
	if (!buf_append(out, "", 0))
		return LCR_ERR_INTERNAL;
	while ((next = strstr(p, "${")) != NULL) {
		if (!append_literal_outside(out, p, (size_t)(next - p), mode))
			return LCR_ERR_INTERNAL;
		if (!variable_parse(next, &ref, &reason)) {
			*out_resolved = false;
			return LCR_OK;
		}
		if (!append_variable(out, &ref, req, mode, out_resolved))
			return LCR_ERR_INTERNAL;
		p = next + ref.length;
	}
	if (!append_literal_outside(out, p, strlen(p), mode))
		return LCR_ERR_INTERNAL;
	return LCR_OK;
}
