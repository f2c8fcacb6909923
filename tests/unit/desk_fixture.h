/*
 * desk_fixture.h - what the desk's unit tests (test_desk,
 * test_desk_blocks, test_desk_fleet) share: a store and a desk over it,
 * policy versions recorded, incidents judged, complaints as small mails
 * taken in, port lists from text.
 *
 * Every store is a ":memory:" one, or with EW_TEST_PG set a fresh
 * schema of that PostgreSQL database (harness/ew_test_store.h).
 */
#ifndef DESK_FIXTURE_H
#define DESK_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "desk/desk.h"
#include "store/store.h"

#define NT EW_STORE_NO_TIME
#define IRC "IRC Opers <abuse@irc.example>"

/* The time of an ISO 8601 string (a failed check and 0 if bad). */
int64_t tm(const char *iso);
/* A store and a desk over it, with these interface addresses;
 * desk_close frees both. */
struct ew_desk *desk_open(
    struct ew_store **st, const char *const *ifs, size_t n);
void desk_close(struct ew_store *st, struct ew_desk *d);
/* Record the policy `text` as applied at `at`. */
int record(struct ew_desk *d, const char *text, int64_t at);
/* A port list parsed from text into a pool that lives for the run
 * (NULL and *n 0 for none or a bad one). */
const struct ew_port_range *tports(const char *s, size_t *n);
/* The verdict on one incident, or "error". */
const char *judge(struct ew_desk *d, const char *src, const char *dst,
    const char *ports, int64_t t, int64_t from, int64_t to);
/* The number of policy versions recorded. */
size_t nversions(struct ew_store *st);
/* The desk's interface address. */
extern const char *const our_if[1];
/* A small mail (in mailbuf); msgid NULL for none. */
extern char mailbuf[8192];
const char *mail(
    const char *from, const char *msgid, const char *date, const char *body);
/* ew_desk_add of the mail m as "test.eml" at now. */
int add(struct ew_desk *d, const char *m, int64_t now, struct ew_desk_added *r);

#endif
