/*
 * policy.c - statement matching and the decision over a set of policies.
 *
 * A statement applies to a request when its action, resource, principal
 * and every condition match.  policy_evaluate() records each applying
 * statement and then decides in the order that policy.h describes.  When
 * both an identity policy and the resource policy deny, the reason names
 * the identity policy, because AWS's message names only one policy type.
 * Cross-account, when neither side allows, the reason names the resource
 * policy: the repository owner's grant is what a cross-account caller
 * lacks most often.
 */
#include "policy_int.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/status.h"

/* Explanations of one statement longer than this are cut. */
#define WHY_MAX 4096

const char *policy_name(const struct policy *p)
{
	return p->name;
}

bool policy_has_resource_element(const struct policy *p)
{
	for (size_t i = 0; i < p->nstatements; i++)
		if (p->statements[i].has_resource)
			return true;
	return false;
}

void policy_each_principal(const struct policy *p, bool (*fn)(void *ctx, const char *principal), void *ctx)
{
	for (size_t i = 0; i < p->nstatements; i++) {
		const struct policy_list *aws = &p->statements[i].principals.aws;

		for (size_t j = 0; j < aws->count; j++)
			if (strcmp(aws->items[j], "*") != 0 && !fn(ctx, aws->items[j]))
				return;
	}
}

/* Append "; " and a formatted clause to why, ignoring overflow: an
 * explanation is cut, never the decision. */
static void why_add(struct buf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void why_add(struct buf *why, const char *fmt, ...)
{
	char clause[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(clause, sizeof(clause), fmt, ap);
	va_end(ap);
	if (why->len > 0)
		buf_append(why, "; ", 2);
	buf_append(why, clause, strlen(clause));
}

static bool action_matches(const struct policy_statement *s, const char *action, struct buf *why)
{
	for (size_t i = 0; i < s->actions.count; i++) {
		if (!policy_glob_match(s->actions.items[i], action, true))
			continue;
		if (s->not_action)
			return false;
		why_add(why, "action %s matches '%s'", action, s->actions.items[i]);
		return true;
	}
	if (!s->not_action)
		return false;
	why_add(why, "action %s matches no NotAction entry", action);
	return true;
}

/* Whether one Resource entry matches the request's resource.  In a
 * 2012-10-17 policy the entry's variables are substituted first. */
static int resource_entry_matches(const struct policy *p, const char *entry, const struct policy_request *req,
				  struct buf *expanded, bool *out_matched)
{
	const char *resource = req->resource != NULL ? req->resource : "";
	bool resolved;
	int status;

	*out_matched = false;
	if (!p->variables || strstr(entry, "${") == NULL) {
		*out_matched = policy_glob_match(entry, resource, false);
		return LCR_OK;
	}
	status = policy_variables_expand(entry, req, POLICY_EXPAND_PATTERN, expanded, &resolved);
	if (status == LCR_OK && resolved)
		*out_matched = policy_glob_match_n(expanded->data, expanded->len, resource, strlen(resource), false, true);
	return status;
}

static int resource_matches(const struct policy *p, const struct policy_statement *s,
			    const struct policy_request *req, struct buf *why, bool *out_matched)
{
	struct buf expanded;
	bool hit = false;
	int status = LCR_OK;
	size_t i;

	*out_matched = true;
	if (!s->has_resource)
		return LCR_OK; /* a resource policy applies to the resource it is attached to */
	buf_init(&expanded, POLICY_EXPANSION_MAX);
	for (i = 0; i < s->resources.count && !hit; i++) {
		status = resource_entry_matches(p, s->resources.items[i], req, &expanded, &hit);
		if (status != LCR_OK)
			goto out;
	}
	*out_matched = hit != s->not_resource;
	if (*out_matched && hit)
		why_add(why, "resource matches '%s'", s->resources.items[i - 1]);
	else if (*out_matched)
		why_add(why, "resource matches no NotResource entry");
out:
	buf_release(&expanded);
	return status;
}

/* Whether the Principal or NotPrincipal element of s matches req.
 * *out_entry gets the Principal entry that matched, or NULL. */
static bool principal_matches(const struct policy_statement *s, const struct policy_request *req, struct buf *why,
			      const char **out_entry)
{
	const char *entry;
	bool hit;

	*out_entry = NULL;
	if (!s->has_principal)
		return true; /* identity policies apply to the principal they are attached to */
	hit = policy_principals_match(&s->principals, req, &entry);
	if (!s->not_principal)
		*out_entry = entry;
	if (hit && !s->not_principal)
		why_add(why, "principal matches '%s'", entry);
	else if (!hit && s->not_principal)
		why_add(why, "principal %s is not in NotPrincipal", req->principal_arn ? req->principal_arn : "(none)");
	return hit != s->not_principal;
}

static int conditions_match(const struct policy *p, const struct policy_statement *s,
			    const struct policy_request *req, struct buf *why, bool *out_matched)
{
	char clause[1024];
	int status;

	*out_matched = true;
	for (size_t i = 0; i < s->nconditions; i++) {
		status = policy_condition_evaluate(&s->conditions[i], req, p->variables, out_matched, clause,
						   sizeof(clause));
		if (status != LCR_OK || !*out_matched)
			return status;
		why_add(why, "%s", clause);
	}
	return LCR_OK;
}

/* Whether statement s of p applies to req; why receives what matched and
 * *out_entry the Principal entry that matched, if any. */
static int statement_matches(const struct policy *p, const struct policy_statement *s,
			     const struct policy_request *req, struct buf *why, bool *out_matched,
			     const char **out_entry)
{
	int status;

	*out_matched = false;
	*out_entry = NULL;
	why->len = 0;
	if (why->data != NULL)
		why->data[0] = '\0';
	if (!action_matches(s, req->action != NULL ? req->action : "", why))
		return LCR_OK;
	status = resource_matches(p, s, req, why, out_matched);
	if (status != LCR_OK || !*out_matched)
		return status;
	*out_matched = principal_matches(s, req, why, out_entry);
	if (!*out_matched)
		return LCR_OK;
	return conditions_match(p, s, req, why, out_matched);
}

static int decision_add(struct policy_decision *d, const struct policy *p, size_t index, const struct buf *why)
{
	const struct policy_statement *s = &p->statements[index];
	struct policy_match *grown, *m;

	grown = realloc(d->matches, (d->nmatches + 1) * sizeof(*grown));
	if (grown == NULL)
		return LCR_ERR_INTERNAL;
	d->matches = grown;
	m = &d->matches[d->nmatches++];
	memset(m, 0, sizeof(*m));
	snprintf(m->policy, sizeof(m->policy), "%s", p->name);
	m->statement = (int)index;
	snprintf(m->sid, sizeof(m->sid), "%s", s->sid != NULL ? s->sid : "");
	m->allow = s->allow;
	snprintf(m->why, sizeof(m->why), "%s", why->data != NULL ? why->data : "");
	return LCR_OK;
}

/* The effects of the statements of one policy that match the request. */
struct verdict {
	bool allow;
	bool allow_direct; /* an Allow names the principal itself, or "*", not only its account */
	bool deny;
};

static int policy_scan(const struct policy *p, const struct policy_request *req, struct policy_decision *d,
		       struct verdict *v)
{
	const char *entry;
	struct buf why;
	bool matched;
	int status = LCR_OK;

	buf_init(&why, WHY_MAX);
	for (size_t i = 0; i < p->nstatements; i++) {
		status = statement_matches(p, &p->statements[i], req, &why, &matched, &entry);
		if (status != LCR_OK)
			break;
		if (!matched)
			continue;
		status = decision_add(d, p, i, &why);
		if (status != LCR_OK)
			break;
		if (!p->statements[i].allow) {
			v->deny = true;
			continue;
		}
		v->allow = true;
		if (entry != NULL && !policy_principal_is_account(entry))
			v->allow_direct = true;
	}
	buf_release(&why);
	return status;
}

/* Combine the verdicts in the order policy.h describes.  trust is true
 * when the resource policy is a role trust policy. */
static void decide(struct policy_decision *d, const struct policy_request *req, const struct verdict *identity,
		   const struct verdict *resource, bool trust)
{
	bool cross_account = req->resource_account != NULL &&
			     (req->principal_account == NULL || strcmp(req->principal_account, req->resource_account) != 0);
	/* The root user has every permission of its own account without an
	 * identity policy, and that also counts as the identity side of a
	 * cross-account request. */
	bool identity_allows = identity->allow || req->principal_is_root;
	/* A trust policy that names only the caller's account delegates to the
	 * account's identity policies, as STS's AssumeRole reference states. */
	bool resource_suffices = resource->allow && (!trust || resource->allow_direct);

	d->result = POLICY_IMPLICIT_DENY;
	if (identity->deny) {
		d->result = POLICY_EXPLICIT_DENY;
		d->reason = POLICY_REASON_EXPLICIT_DENY_IDENTITY;
	} else if (resource->deny) {
		d->result = POLICY_EXPLICIT_DENY;
		d->reason = POLICY_REASON_EXPLICIT_DENY_RESOURCE;
	} else if (trust && !resource->allow) {
		d->reason = POLICY_REASON_NO_RESOURCE_ALLOW; /* a role trust policy must always allow */
	} else if (cross_account) {
		if (identity_allows && resource->allow)
			d->result = POLICY_ALLOW;
		else
			d->reason = resource->allow ? POLICY_REASON_NO_IDENTITY_ALLOW : POLICY_REASON_NO_RESOURCE_ALLOW;
	} else if (identity_allows || resource_suffices) {
		d->result = POLICY_ALLOW;
	} else {
		d->reason = POLICY_REASON_NO_IDENTITY_ALLOW;
	}
	if (d->result == POLICY_ALLOW)
		d->reason = POLICY_REASON_NONE;
}

int policy_evaluate(const struct policy_set *set, const struct policy_request *req, struct policy_decision *out)
{
	struct verdict identity = {false, false, false}, resource = {false, false, false};
	int status = LCR_OK;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < set->nidentity && status == LCR_OK; i++) {
		assert(set->identity[i] != NULL);
		status = policy_scan(set->identity[i], req, out, &identity);
	}
	if (status == LCR_OK && set->resource != NULL)
		status = policy_scan(set->resource, req, out, &resource);
	if (status != LCR_OK) {
		policy_decision_release(out);
		out->result = POLICY_IMPLICIT_DENY;
		return status;
	}
	decide(out, req, &identity, &resource, set->resource != NULL && set->resource->kind == POLICY_KIND_TRUST);
	return LCR_OK;
}

void policy_decision_release(struct policy_decision *d)
{
	free(d->matches);
	d->matches = NULL;
	d->nmatches = 0;
}

void policy_denial_message(const struct policy_decision *d, const struct policy_request *req, char *out,
			   size_t outlen)
{
	const char *principal = req->principal_arn != NULL ? req->principal_arn : "";
	const char *action = req->action != NULL ? req->action : "";
	const char *resource = req->resource != NULL ? req->resource : "*";
	int n;

	n = snprintf(out, outlen, "User: %s is not authorized to perform: %s on resource: %s", principal, action,
		     resource);
	if (n < 0 || (size_t)n >= outlen)
		return;
	switch (d->reason) {
	case POLICY_REASON_NO_IDENTITY_ALLOW:
		snprintf(out + n, outlen - (size_t)n, " because no identity-based policy allows the %s action", action);
		break;
	case POLICY_REASON_NO_RESOURCE_ALLOW:
		snprintf(out + n, outlen - (size_t)n, " because no resource-based policy allows the %s action", action);
		break;
	case POLICY_REASON_EXPLICIT_DENY_IDENTITY:
		snprintf(out + n, outlen - (size_t)n, " with an explicit deny in an identity-based policy");
		break;
	case POLICY_REASON_EXPLICIT_DENY_RESOURCE:
		snprintf(out + n, outlen - (size_t)n, " with an explicit deny in a resource-based policy");
		break;
	case POLICY_REASON_NONE:
		break; /* AWS's older messages end after the resource */
	}
}

const char *policy_result_name(enum policy_result result)
{
	switch (result) {
	case POLICY_ALLOW:
		return "allowed";
	case POLICY_EXPLICIT_DENY:
		return "explicitDeny";
	case POLICY_IMPLICIT_DENY:
		return "implicitDeny";
	}
	return "implicitDeny";
}
