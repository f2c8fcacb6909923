/*
 * suggest.c - "did you mean": the known word nearest to a mistyped
 * command, verb or option, as git and cargo offer.
 *
 * Near is a slip of the fingers: the optimal string alignment distance
 * (insertions, deletions, substitutions, a swap of two neighbours; each
 * one edit), at most one edit in a word of up to four letters and two
 * in a longer one, case ignored; or the first three letters or more of
 * a word ("pol" for "policy").  Words equally near are all named, as
 * git does ("stauts": 'stats' or 'status'), up to EW_SIMILAR_MAX.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define EW_SIM_MAX 64 /* longer words are not slips of the fingers */

/* The optimal string alignment distance of a and b, or EW_SIM_MAX if
 * either is longer than that. */
static unsigned
osa(const char *a, const char *b)
{
	unsigned d[3][EW_SIM_MAX + 1], *p2, *p1, *r;
	size_t na = strlen(a), nb = strlen(b), i, j;

	if (na > EW_SIM_MAX || nb > EW_SIM_MAX)
		return EW_SIM_MAX;
	for (j = 0; j <= nb; j++)
		d[1][j] = (unsigned)j;
	p2 = d[0];
	p1 = d[1];
	r = d[2];
	for (i = 1; i <= na; i++) {
		r[0] = (unsigned)i;
		for (j = 1; j <= nb; j++) {
			unsigned cost = tolower((unsigned char)a[i - 1]) !=
					tolower((unsigned char)b[j - 1]);
			unsigned v = p1[j - 1] + cost;

			if (p1[j] + 1 < v)
				v = p1[j] + 1;
			if (r[j - 1] + 1 < v)
				v = r[j - 1] + 1;
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) ==
				tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) ==
				tolower((unsigned char)b[j - 1]) &&
			    p2[j - 2] + 1 < v)
				v = p2[j - 2] + 1;
			r[j] = v;
		}
		{
			unsigned *t = p2;

			p2 = p1;
			p1 = r;
			r = t;
		}
	}
	return p1[nb];
}

void
ew_cli_similar_init(struct ew_similar *s, const char *typo)
{
	size_t n = strlen(typo);

	memset(s, 0, sizeof(*s));
	s->typo = typo;
	s->dist = (n <= 4 ? 1 : 2) + 1; /* anything nearer is a slip */
}

void
ew_cli_similar_add(struct ew_similar *s, const char *word)
{
	size_t n = strlen(s->typo), i;
	unsigned d, far = n <= 4 ? 1 : 2;

	if (word == NULL || strcmp(word, s->typo) == 0)
		return;
	for (i = 0; i < s->nbest; i++)
		if (strcmp(word, s->best[i]) == 0)
			return; /* a noun of several verbs */
	d = osa(s->typo, word);
	/* a word's beginning: as near as the farthest slip */
	if (d > far && n >= 3 && n < strlen(word) &&
	    strncasecmp(word, s->typo, n) == 0)
		d = far;
	if (d < s->dist) {
		s->best[0] = word;
		s->nbest = 1;
		s->dist = d;
	} else if (d == s->dist && s->nbest > 0 && s->nbest < EW_SIMILAR_MAX) {
		s->best[s->nbest++] = word;
	}
}

const char *
ew_cli_similar_say(
    const struct ew_similar *s, const char *pfx, char *buf, size_t size)
{
	size_t i, len = 0;

	if (s->nbest == 0 || size == 0)
		return NULL;
	buf[0] = '\0';
	for (i = 0; i < s->nbest; i++) {
		int w = snprintf(buf + len, size - len, "%s'%s%s'",
		    i == 0              ? ""
		    : i + 1 == s->nbest ? " or "
					: ", ",
		    pfx, s->best[i]);

		if (w < 0 || (size_t)w >= size - len)
			return NULL; /* too long to be of help */
		len += (size_t)w;
	}
	return buf;
}
