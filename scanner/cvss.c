/*
 * cvss.c - CVSS base scores from vector strings.
 *
 * Version 3.x follows the CVSS v3.1 specification (FIRST, section 7.1 and
 * appendix A): the same equations serve 3.0 vectors, and Roundup is the
 * v3.1 integer form that avoids floating-point artifacts.  Version 2
 * follows the CVSS v2 guide (FIRST, section 3.2.1).  Only base metrics
 * count; temporal and environmental metrics in a vector are ignored.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scanner_int.h"

struct metric_value {
	char letter;
	double weight;
};

struct metric {
	const char *name;
	struct metric_value values[4];
	size_t nvalues;
};

/* Find metric name's value letter in vector's "/"-separated "K:V" list
 * (from start on); false when it is missing, repeated or unknown. */
static bool metric_read(const char *vector, const struct metric *metric, double *out_weight, char *out_letter)
{
	const char *p = vector;
	size_t name_len = strlen(metric->name);
	bool found = false;

	while (*p != '\0') {
		size_t len = strcspn(p, "/");

		if (len == name_len + 2 && strncmp(p, metric->name, name_len) == 0 && p[name_len] == ':') {
			char letter = p[name_len + 1];
			size_t i;

			if (found)
				return false;
			for (i = 0; i < metric->nvalues && metric->values[i].letter != letter; i++)
				;
			if (i == metric->nvalues)
				return false;
			*out_weight = metric->values[i].weight;
			*out_letter = letter;
			found = true;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	return found;
}

/* Each "/"-separated part must be "K:V". */
static bool vector_well_formed(const char *vector)
{
	const char *p = vector;

	while (*p != '\0') {
		size_t len = strcspn(p, "/");
		const char *colon = memchr(p, ':', len);

		if (len < 3 || colon == NULL || colon == p || colon == p + len - 1)
			return false;
		p += len;
		if (*p == '/')
			p++;
		if (*p == '\0' && p[-1] == '/')
			return false;
	}
	return true;
}

static double roundup(double value)
{
	long long scaled = llround(value * 100000.0);

	if (scaled % 10000 == 0)
		return (double)scaled / 100000.0;
	return (double)(scaled / 10000 + 1) / 10.0;
}

bool cvss3_base_score(const char *vector, double *out_score, const char **out_version)
{
	static const struct metric av = {"AV", {{'N', 0.85}, {'A', 0.62}, {'L', 0.55}, {'P', 0.2}}, 4};
	static const struct metric ac = {"AC", {{'L', 0.77}, {'H', 0.44}}, 2};
	static const struct metric pr = {"PR", {{'N', 0.85}, {'L', 0.62}, {'H', 0.27}}, 3};
	static const struct metric ui = {"UI", {{'N', 0.85}, {'R', 0.62}}, 2};
	static const struct metric scope = {"S", {{'U', 0}, {'C', 1}}, 2};
	static const struct metric c = {"C", {{'H', 0.56}, {'L', 0.22}, {'N', 0}}, 3};
	static const struct metric i = {"I", {{'H', 0.56}, {'L', 0.22}, {'N', 0}}, 3};
	static const struct metric a = {"A", {{'H', 0.56}, {'L', 0.22}, {'N', 0}}, 3};
	double w_av, w_ac, w_pr, w_ui, w_s, w_c, w_i, w_a, iss, impact, exploitability;
	char l_pr, letter;
	const char *body;

	if (strncmp(vector, "CVSS:3.1/", 9) == 0)
		*out_version = "3.1";
	else if (strncmp(vector, "CVSS:3.0/", 9) == 0)
		*out_version = "3.0";
	else
		return false;
	body = vector + 9;
	if (!vector_well_formed(body) || !metric_read(body, &av, &w_av, &letter) ||
	    !metric_read(body, &ac, &w_ac, &letter) || !metric_read(body, &pr, &w_pr, &l_pr) ||
	    !metric_read(body, &ui, &w_ui, &letter) || !metric_read(body, &scope, &w_s, &letter) ||
	    !metric_read(body, &c, &w_c, &letter) || !metric_read(body, &i, &w_i, &letter) ||
	    !metric_read(body, &a, &w_a, &letter))
		return false;

	bool changed = w_s > 0;

	/* Privileges Required weighs more when the scope changes. */
	if (changed && l_pr == 'L')
		w_pr = 0.68;
	else if (changed && l_pr == 'H')
		w_pr = 0.5;
	iss = 1 - (1 - w_c) * (1 - w_i) * (1 - w_a);
	if (changed)
		impact = 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15);
	else
		impact = 6.42 * iss;
	exploitability = 8.22 * w_av * w_ac * w_pr * w_ui;
	if (impact <= 0)
		*out_score = 0;
	else if (changed)
		*out_score = roundup(fmin(1.08 * (impact + exploitability), 10));
	else
		*out_score = roundup(fmin(impact + exploitability, 10));
	return true;
}

bool cvss2_base_score(const char *vector, double *out_score)
{
	static const struct metric av = {"AV", {{'L', 0.395}, {'A', 0.646}, {'N', 1.0}}, 3};
	static const struct metric ac = {"AC", {{'H', 0.35}, {'M', 0.61}, {'L', 0.71}}, 3};
	static const struct metric au = {"Au", {{'M', 0.45}, {'S', 0.56}, {'N', 0.704}}, 3};
	static const struct metric c = {"C", {{'N', 0}, {'P', 0.275}, {'C', 0.660}}, 3};
	static const struct metric i = {"I", {{'N', 0}, {'P', 0.275}, {'C', 0.660}}, 3};
	static const struct metric a = {"A", {{'N', 0}, {'P', 0.275}, {'C', 0.660}}, 3};
	double w_av, w_ac, w_au, w_c, w_i, w_a, impact, exploitability, score;
	char body[256], letter;
	size_t len;

	if (strncmp(vector, "CVSS:2.0/", 9) == 0)
		vector += 9;
	/* NVD writes v2 vectors bare or in brackets: "(AV:N/AC:L/...)". */
	if (vector[0] == '(')
		vector++;
	len = strlen(vector);
	if (len >= sizeof(body))
		return false;
	memcpy(body, vector, len + 1);
	if (len > 0 && body[len - 1] == ')')
		body[len - 1] = '\0';
	if (!vector_well_formed(body) || !metric_read(body, &av, &w_av, &letter) ||
	    !metric_read(body, &ac, &w_ac, &letter) || !metric_read(body, &au, &w_au, &letter) ||
	    !metric_read(body, &c, &w_c, &letter) || !metric_read(body, &i, &w_i, &letter) ||
	    !metric_read(body, &a, &w_a, &letter))
		return false;
	impact = 10.41 * (1 - (1 - w_c) * (1 - w_i) * (1 - w_a));
	exploitability = 20 * w_av * w_ac * w_au;
	score = (0.6 * impact + 0.4 * exploitability - 1.5) * (impact == 0 ? 0 : 1.176);
	/* Round to one decimal; the small offset keeps results such as 4.65
	 * that are stored a hair below from rounding down. */
	*out_score = floor(score * 10 + 0.5 + 1e-9) / 10;
	return true;
}
