/*
 * facts.c - what several readers (and complaint.c) draw from a mail as a
 * whole: ticket numbers, a category from the words used, and the message
 * date every reader counts from.  Below the readers: it calls only
 * scan.c and mtime.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/tm.h"
#include "mail/mail_int.h"
#include "mail/text_int.h"

/* ---- ticket numbers ---- */

char *
ew_mail_ticket(const char *s, size_t n)
{
	static const char *const kw[] = { "ticket", "case", "csirt", "incident",
		"issue", "ref" };
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (!isalpha((unsigned char)s[i]) ||
		    (i > 0 && isalnum((unsigned char)s[i - 1])))
			continue;
		for (k = 0; k < sizeof(kw) / sizeof(kw[0]); k++) {
			size_t j = i + strlen(kw[k]), b, e;
			int digit = 0;

			if (!ew_tx_word_at(s, n, i, kw[k]))
				continue;
			if (j < n && (s[j] == 's' || s[j] == 'S'))
				continue; /* "tickets", "cases" */
			while (j < n && (s[j] == '#' || s[j] == ':' ||
					    s[j] == ' ' || s[j] == '-'))
				j++;
			if (ew_tx_at(s, n, j, "id") || ew_tx_at(s, n, j, "no."))
				j += s[j] == 'i' || s[j] == 'I' ? 2 : 3;
			while (j < n && (s[j] == '#' || s[j] == ':' ||
					    s[j] == ' ' || s[j] == '.'))
				j++;
			b = e = j;
			while (e < n && e - b < 64 &&
			       (isalnum((unsigned char)s[e]) || s[e] == '-' ||
				   s[e] == '_' || s[e] == '.' || s[e] == '/'))
				digit |= isdigit((unsigned char)s[e++]);
			while (e > b && (s[e - 1] == '.' || s[e - 1] == '-'))
				e--;
			if (digit && e - b >= 3)
				return ew_strndup(s + b, e - b);
		}
	}
	return NULL;
}

/* ---- categories ---- */

const char *
ew_mail_category(const char *s, size_t n)
{
	static const struct {
		const char *w, *cat;
	} tab[] = { { "irc", "irc" }, { "k-line", "irc" }, { "kline", "irc" },
		{ "ddos", "ddos" }, { "denial of service", "ddos" },
		{ "denial-of-service", "ddos" }, { "flood", "ddos" },
		{ "copyright", "copyright" }, { "dmca", "copyright" },
		{ "infringement", "copyright" }, { "bittorrent", "copyright" },
		{ "phishing", "phishing" }, { "brute force", "login-attack" },
		{ "brute-force", "login-attack" },
		{ "bruteforce", "login-attack" },
		{ "login attack", "login-attack" },
		{ "login-attack", "login-attack" },
		{ "failed password", "login-attack" },
		{ "failed login", "login-attack" },
		{ "authentication failure", "login-attack" },
		{ "malware", "malware" }, { "botnet", "malware" },
		{ "infected", "malware" }, { "trojan", "malware" },
		{ "drone", "malware" }, { "c&c", "malware" },
		{ "port scan", "scan" }, { "portscan", "scan" },
		{ "netscan", "scan" }, { "poortscan", "scan" },
		{ "network scan", "scan" }, { "force brute", "login-attack" },
		{ "password guessing", "login-attack" },
		{ "login attempt", "login-attack" },
		{ "w\xc3\xb6rterbuch", "login-attack" },
		{ "anmeldeversuch", "login-attack" }, { "sweep", "scan" },
		{ "swept", "scan" }, { "credential stuffing", "login-attack" },
		{ "port-scan", "scan" }, { "scanning", "scan" },
		{ "scan", "scan" }, { "spam", "spam" },
		{ "unsolicited", "spam" }, { "sql injection", "exploit" },
		{ "exploit", "exploit" }, { "hack", "exploit" },
		{ "regbot", "spam" }, { "fraud", "fraud" } };
	enum { NTAB = sizeof(tab) / sizeof(tab[0]) };
	unsigned char head[26], next[NTAB];

	_Static_assert(NTAB < 255, "a bucket index fits a byte");
	size_t i, k, best = NTAB;

	/* One pass: the words are bucketed by their first letter (every
	 * one starts with an ASCII letter), and each word start of the
	 * text tries only its letter's bucket.  The first word of the
	 * table found anywhere wins, as a scan per word would find it. */
	memset(head, 0xff, sizeof(head));
	for (k = NTAB; k-- > 0;) {
		int c = tolower((unsigned char)tab[k].w[0]) - 'a';

		next[k] = head[c];
		head[c] = (unsigned char)k;
	}
	if (n > 65536)
		n = 65536;
	for (i = 0; i < n && best > 0; i++) {
		int c = tolower((unsigned char)s[i]);

		if (c < 'a' || c > 'z' ||
		    (i > 0 && isalnum((unsigned char)s[i - 1])))
			continue;
		for (k = head[c - 'a']; k < best; k = next[k])
			if (ew_tx_at(s, n, i, tab[k].w))
				best = k;
	}
	return best < NTAB ? tab[best].cat : NULL;
}

/* ---- message dates ---- */

int64_t
ew_tx_msg_date(const struct ew_mail *m, size_t msg, int *has, int *off)
{
	struct ew_mtime t;
	size_t k = msg;

	for (;;) {
		if (k < m->nmsgs && m->msgs[k].date != NULL &&
		    ew_mail_time_parse(
			m->msgs[k].date, strlen(m->msgs[k].date), &t) == 0) {
			*has = 1;
			if (off != NULL)
				*off = t.zs == EW_ZONE_ASSUMED ? 0 : t.off;
			return t.t;
		}
		if (k == 0)
			break;
		k = 0;
	}
	*has = 0;
	if (off != NULL)
		*off = 0;
	return 0;
}
