/*
 * nft_netlink.c - add or delete elements of one of our interval sets by
 * talking nf_tables netlink directly: one batch (begin, NEWSETELEM or
 * DELSETELEM messages, end), one transaction.
 *
 * Why not libnftables: nft 1.0.6 fetches every element of an interval
 * set before it adds one (its cache wants them to check overlaps), which
 * takes seconds at 100k elements and minutes at 1M (performance.md
 * section 5).  The kernel's rbtree checks overlaps itself (EEXIST), so
 * the fetch is not needed for correctness.  Only the kernel's uapi
 * headers are used: no library.
 *
 * An interval [lo, hi] is sent as nft sends it: a start element with key
 * lo, and an end element (NFT_SET_ELEM_INTERVAL_END) with key hi + 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "emit/nft.h"
#include "lib/addr.h"
#include "lib/buf.h"

/* Elements per NEWSETELEM message (each with its start and end). */
#define EW_NL_CHUNK 512

struct nlbuf {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

static void *
nl_put(struct nlbuf *b, size_t n)
{
	size_t need = b->len + NLMSG_ALIGN(n);
	void *r;

	if (b->oom)
		return NULL;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		unsigned char *np;

		while (cap < need)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL) {
			b->oom = 1;
			return NULL;
		}
		b->p = np;
		b->cap = cap;
	}
	r = b->p + b->len;
	memset(r, 0, NLMSG_ALIGN(n));
	b->len = need;
	return r;
}

/* Start a message; returns its offset in the buffer. */
static size_t
msg_begin(struct nlbuf *b, uint16_t type, uint16_t flags, uint32_t seq,
    uint8_t family, uint16_t res_id)
{
	size_t off = b->len;
	struct nlmsghdr *nh = nl_put(b, sizeof(*nh));
	struct nfgenmsg *g;

	if (nh == NULL)
		return off;
	nh->nlmsg_type = type;
	nh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	nh->nlmsg_seq = seq;
	g = nl_put(b, sizeof(*g));
	if (g != NULL) {
		g->nfgen_family = family;
		g->version = NFNETLINK_V0;
		g->res_id = htons(res_id);
	}
	return off;
}

static void
msg_end(struct nlbuf *b, size_t off)
{
	if (!b->oom)
		((struct nlmsghdr *)(void *)(b->p + off))->nlmsg_len =
		    (uint32_t)(b->len - off);
}

static void
attr_put(struct nlbuf *b, uint16_t type, const void *data, size_t n)
{
	struct nlattr *a = nl_put(b, NLA_HDRLEN + n);

	if (a == NULL)
		return;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + n);
	memcpy((unsigned char *)a + NLA_HDRLEN, data, n);
}

static size_t
nest_begin(struct nlbuf *b, uint16_t type)
{
	size_t off = b->len;
	struct nlattr *a = nl_put(b, NLA_HDRLEN);

	if (a != NULL)
		a->nla_type = (uint16_t)(type | NLA_F_NESTED);
	return off;
}

static void
nest_end(struct nlbuf *b, size_t off)
{
	if (!b->oom)
		((struct nlattr *)(void *)(b->p + off))->nla_len =
		    (uint16_t)(b->len - off);
}

static void
put_elem(struct nlbuf *b, const uint8_t *key, size_t klen, int end)
{
	size_t e = nest_begin(b, NFTA_LIST_ELEM), k;

	k = nest_begin(b, NFTA_SET_ELEM_KEY);
	attr_put(b, NFTA_DATA_VALUE, key, klen);
	nest_end(b, k);
	if (end) {
		uint32_t f = htonl(NFT_SET_ELEM_INTERVAL_END);

		attr_put(b, NFTA_SET_ELEM_FLAGS, &f, sizeof(f));
	}
	nest_end(b, e);
}

/* key + 1 in place (big endian); 1 when it wrapped. */
static int
key_inc(uint8_t *k, size_t n)
{
	while (n-- > 0)
		if (++k[n] != 0)
			return 0;
	return 1;
}

int
ew_nft_elem_parse(const char *s, struct ew_nft_elem *out)
{
	char a[EW_ADDR_STRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned bits, len, i;

	const char *dash = strchr(s, '-');

	if (dash != NULL && slash == NULL) {
		/* "lo-hi", as the emitter writes non-prefix intervals */
		struct ew_addr hi;

		n = (size_t)(dash - s);
		if (n == 0 || n >= sizeof(a) || strlen(dash + 1) >= sizeof(a))
			return -EINVAL;
		memcpy(a, s, n);
		a[n] = '\0';
		if (!ew_addr_parse(a, &out->lo) ||
		    !ew_addr_parse(dash + 1, &hi) ||
		    hi.family != out->lo.family ||
		    memcmp(hi.b, out->lo.b, sizeof(hi.b)) < 0)
			return -EINVAL;
		out->hi = hi;
		return 0;
	}
	if (ew_prefix_parse(s, strlen(s), 0, &out->lo, &len) != 0)
		return -EINVAL;
	bits = ew_addr_bits(&out->lo);
	out->hi = out->lo;
	for (i = len; i < bits; i++) {
		uint8_t m = (uint8_t)(0x80u >> (i % 8));

		out->lo.b[i / 8] &= (uint8_t)~m;
		out->hi.b[i / 8] |= m;
	}
	return 0;
}

/* A message with no payload but its header: a batch's begin or end. */
static void
batch_mark(struct nlbuf *b, uint16_t type, uint32_t seq)
{
	msg_end(b, msg_begin(b, type, 0, seq, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
}

/* Into an empty b: a GETTABLE of our table (its acked answer says
 * whether it is there, and its handle). */
static void
table_get(struct nlbuf *b, uint32_t seq)
{
	size_t off;

	memset(b, 0, sizeof(*b));
	off = msg_begin(b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE,
	    NLM_F_ACK, seq, NFPROTO_INET, 0);
	attr_put(b, NFTA_TABLE_NAME, EW_NFT_TABLE, sizeof(EW_NFT_TABLE));
	msg_end(b, off);
}

/* A netlink socket to nf_tables: its descriptor, or -errno (said in
 * err). */
static int
nl_socket(struct ew_buf *err)
{
	int fd, rc;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0) {
		rc = -errno;
		ew_buf_printf(err, "netlink socket: %s\n", strerror(-rc));
		return rc;
	}
	return fd;
}

/* b to the kernel in one message: 0, or -errno (said in err, with the
 * size when say_len). */
static int
nl_send(int fd, const struct nlbuf *b, int say_len, struct ew_buf *err)
{
	struct sockaddr_nl sa;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (sendto(fd, b->p, b->len, 0, (struct sockaddr *)&sa, sizeof(sa)) ==
	    (ssize_t)b->len)
		return 0;
	rc = -errno;
	if (say_len)
		ew_buf_printf(err, "netlink send (%zu bytes): %s\n", b->len,
		    strerror(-rc));
	else
		ew_buf_printf(err, "netlink send: %s\n", strerror(-rc));
	return rc;
}

/* One reply datagram into buf (past EINTR): its length, or -errno
 * (-EIO at the end of the stream), said in err. */
static ssize_t
nl_recv(int fd, void *buf, size_t len, struct ew_buf *err)
{
	ssize_t n;
	int rc;

	while ((n = recv(fd, buf, len, 0)) < 0 && errno == EINTR)
		;
	if (n > 0)
		return n;
	rc = n < 0 ? -errno : -EIO;
	ew_buf_printf(err, "netlink receive: %s\n",
	    n < 0 ? strerror(-rc) : "end of stream");
	return rc;
}

static int
nl_talk(const struct nlbuf *b, uint32_t first_seq, uint32_t nacks,
    struct ew_buf *err)
{
	unsigned char rbuf[8192];
	int fd, rc = 0;
	uint32_t got = 0;

	if ((fd = nl_socket(err)) < 0)
		return fd;
	if ((rc = nl_send(fd, b, 0, err)) != 0)
		goto out;
	while (got < nacks) {
		ssize_t n = nl_recv(fd, rbuf, sizeof(rbuf), err);
		struct nlmsghdr *nh;
		size_t left;

		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		left = (size_t)n;
		for (nh = (struct nlmsghdr *)(void *)rbuf; NLMSG_OK(nh, left);
		     nh = NLMSG_NEXT(nh, left)) {
			const struct nlmsgerr *e;

			if (nh->nlmsg_type != NLMSG_ERROR)
				continue;
			e = NLMSG_DATA(nh);
			if (nh->nlmsg_seq >= first_seq)
				got++;
			if (e->error != 0 && rc == 0) {
				rc = e->error;
				ew_buf_printf(err, "nf_tables: %s\n",
				    strerror(-e->error));
			}
		}
		if (rc != 0)
			break;
	}
out:
	close(fd);
	return rc;
}

int
ew_nft_batch(const struct ew_nft_op *ops, size_t n, struct ew_buf *err)
{
	struct nlbuf b;
	uint32_t seq = (uint32_t)getpid() << 8, first, nmsg = 0;
	size_t i, off = 0, list = 0, inmsg = 0;
	int rc;

	if (n == 0)
		return 0;
	memset(&b, 0, sizeof(b));
	batch_mark(&b, NFNL_MSG_BATCH_BEGIN, seq++);
	first = seq;
	for (i = 0; i < n; i++) {
		const struct ew_nft_elem *e = &ops[i].e;
		uint8_t lo[16], end[16];
		size_t klen = e->lo.family == EW_AF_INET ? 4 : 16;

		if (e->lo.family != e->hi.family ||
		    (e->lo.family != EW_AF_INET &&
			e->lo.family != EW_AF_INET6) ||
		    strlen(ops[i].set) >= NFT_SET_MAXNAMELEN) {
			rc = -EINVAL;
			goto out;
		}
		memcpy(lo, e->lo.b, klen);
		memcpy(end, e->hi.b, klen);
		if (key_inc(end, klen)) {
			ew_buf_puts(err, "an interval reaching the last "
					 "address cannot be updated in place; "
					 "apply the policy instead\n");
			rc = -EINVAL;
			goto out;
		}
		if (inmsg > 0 &&
		    (inmsg == EW_NL_CHUNK || ops[i].add != ops[i - 1].add ||
			strcmp(ops[i].set, ops[i - 1].set) != 0)) {
			nest_end(&b, list);
			msg_end(&b, off);
			inmsg = 0;
		}
		if (inmsg == 0) {
			off = msg_begin(&b,
			    (NFNL_SUBSYS_NFTABLES << 8) |
				(ops[i].add ? NFT_MSG_NEWSETELEM
					    : NFT_MSG_DELSETELEM),
			    (uint16_t)(NLM_F_ACK |
				       (ops[i].add ? NLM_F_CREATE : 0)),
			    seq++, NFPROTO_INET, 0);
			attr_put(&b, NFTA_SET_ELEM_LIST_TABLE, EW_NFT_TABLE,
			    sizeof(EW_NFT_TABLE));
			attr_put(&b, NFTA_SET_ELEM_LIST_SET, ops[i].set,
			    strlen(ops[i].set) + 1);
			list = nest_begin(&b, NFTA_SET_ELEM_LIST_ELEMENTS);
			nmsg++;
		}
		put_elem(&b, lo, klen, 0);
		put_elem(&b, end, klen, 1);
		inmsg++;
	}
	nest_end(&b, list);
	msg_end(&b, off);
	batch_mark(&b, NFNL_MSG_BATCH_END, seq++);
	if (b.oom) {
		rc = -ENOMEM;
		goto out;
	}
	rc = nl_talk(&b, first, nmsg, err);
out:
	free(b.p);
	return rc;
}

/* Elements into `set` or, sharded, into its /4 shards "set_sK". */
static int
update(const char *set, int sharded, int add, const struct ew_nft_elem *v,
    size_t n, struct ew_buf *err)
{
	struct ew_nft_op *ops = calloc(n, sizeof(*ops));
	char(*names)[NFT_SET_MAXNAMELEN] = calloc(n, sizeof(*names));
	size_t i;
	int rc = 0;

	if (ops == NULL || names == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (sharded && (v[i].lo.family != EW_AF_INET ||
				   v[i].lo.b[0] >> 4 != v[i].hi.b[0] >> 4)) {
			ew_buf_puts(err, "an element wider than a /4 shard; "
					 "apply the policy instead\n");
			rc = -EINVAL;
			goto out;
		}
		if (sharded)
			snprintf(names[i], sizeof(names[i]), "%s_s%u", set,
			    (unsigned)(v[i].lo.b[0] >> 4));
		else
			snprintf(names[i], sizeof(names[i]), "%s", set);
		ops[i].set = names[i];
		ops[i].add = add;
		ops[i].e = v[i];
	}
	rc = ew_nft_batch(ops, n, err);
out:
	free(ops);
	free(names);
	return rc;
}

int
ew_nft_set_update(const char *set, int add, const struct ew_nft_elem *v,
    size_t n, struct ew_buf *err)
{
	struct ew_buf e1 = EW_BUF_INIT;
	int rc;

	if (n == 0)
		return 0;
	if (strlen(set) >= NFT_SET_MAXNAMELEN - 4)
		return -EINVAL;
	/* the set itself, or, when there is no such set, its shards */
	rc = update(set, 0, add, v, n, &e1);
	if (rc == -ENOENT)
		rc = update(set, 1, add, v, n, err);
	else if (rc < 0)
		ew_buf_puts(err, ew_buf_str(&e1));
	ew_buf_free(&e1);
	return rc;
}

int
ew_nft_table_exists(struct ew_buf *err)
{
	struct nlbuf b;
	uint32_t seq = (uint32_t)getpid() << 8;
	int rc;

	table_get(&b, seq);
	rc = b.oom ? -ENOMEM : nl_talk(&b, seq, 1, err);
	free(b.p);
	return rc;
}

/* ---- reading a guard's surge set ------------------------------------- */

/* The attribute of `type` among the attributes in [p, p + len), or NULL. */
static const struct nlattr *
attr_find(const unsigned char *p, size_t len, uint16_t type)
{
	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const void *)p;
		size_t al = a->nla_len, step = NLA_ALIGN(al);

		if (al < NLA_HDRLEN || al > len)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return NULL;
}

static const unsigned char *
attr_data(const struct nlattr *a)
{
	return (const unsigned char *)a + NLA_HDRLEN;
}

static size_t
attr_len(const struct nlattr *a)
{
	return a->nla_len - NLA_HDRLEN;
}

/* One NFTA_LIST_ELEM: the key (address . port) and the expiration. */
static int
surge_elem(const struct nlattr *el, int family, struct ew_nft_surge *out)
{
	const struct nlattr *k, *v, *x;
	size_t alen = family == EW_AF_INET ? 4 : 16;
	uint64_t ms = 0;
	int i;

	k = attr_find(attr_data(el), attr_len(el), NFTA_SET_ELEM_KEY);
	if (k == NULL)
		return -1;
	v = attr_find(attr_data(k), attr_len(k), NFTA_DATA_VALUE);
	/* concatenation: each field padded to four bytes */
	if (v == NULL || attr_len(v) != alen + 4)
		return -1;
	memset(out, 0, sizeof(*out));
	out->addr.family = (uint8_t)family;
	memcpy(out->addr.b, attr_data(v), alen);
	out->port =
	    (uint16_t)(attr_data(v)[alen] << 8 | attr_data(v)[alen + 1]);
	x = attr_find(attr_data(el), attr_len(el), NFTA_SET_ELEM_EXPIRATION);
	if (x != NULL && attr_len(x) == 8)
		for (i = 0; i < 8; i++)
			ms = ms << 8 | attr_data(x)[i];
	out->expires_ms = (int64_t)ms;
	return 0;
}

/* The elements of one NEWSETELEM message, appended to *v. */
static int
surge_msg(const struct nlmsghdr *nh, int family, struct ew_nft_surge **v,
    size_t *n, size_t *cap)
{
	const unsigned char *p = NLMSG_DATA(nh);
	size_t len = nh->nlmsg_len - NLMSG_LENGTH(0), off;
	const struct nlattr *list, *el;

	if (len < sizeof(struct nfgenmsg))
		return 0;
	p += NLMSG_ALIGN(sizeof(struct nfgenmsg));
	len -= NLMSG_ALIGN(sizeof(struct nfgenmsg));
	list = attr_find(p, len, NFTA_SET_ELEM_LIST_ELEMENTS);
	if (list == NULL)
		return 0;
	for (off = 0; off + NLA_HDRLEN <= attr_len(list);
	     off += NLA_ALIGN(el->nla_len)) {
		el = (const void *)(attr_data(list) + off);
		if (el->nla_len < NLA_HDRLEN ||
		    off + el->nla_len > attr_len(list))
			break;
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			struct ew_nft_surge *nv = realloc(*v, nc * sizeof(**v));

			if (nv == NULL)
				return -ENOMEM;
			*v = nv;
			*cap = nc;
		}
		if (surge_elem(el, family, &(*v)[*n]) == 0)
			(*n)++;
	}
	return 0;
}

/* What one dump reply message is handed to; nonzero stops the dump. */
typedef int (*dump_fn)(const struct nlmsghdr *nh, void *arg);

/* Send one dump request (b) and hand each reply to fn; an -ENOENT from
 * the kernel (no such set or chain) is said in err unless `quiet`. */
static int
nl_dump(const struct nlbuf *b, uint32_t seq, dump_fn fn, void *arg, int quiet,
    struct ew_buf *err)
{
	unsigned char rbuf[32768];
	int fd, rc = 0, done = 0;

	if ((fd = nl_socket(err)) < 0)
		return fd;
	rc = nl_send(fd, b, 0, err);
	while (rc == 0 && !done) {
		ssize_t r = nl_recv(fd, rbuf, sizeof(rbuf), err);
		struct nlmsghdr *nh;
		size_t left;

		if (r < 0) {
			rc = (int)r;
			break;
		}
		left = (size_t)r;
		for (nh = (struct nlmsghdr *)(void *)rbuf;
		     rc == 0 && !done && NLMSG_OK(nh, left);
		     nh = NLMSG_NEXT(nh, left)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = 1;
			} else if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				rc = e->error;
				done = 1;
				if (rc != 0 && !(quiet && rc == -ENOENT))
					ew_buf_printf(err, "nf_tables: %s\n",
					    strerror(-rc));
			} else {
				rc = fn(nh, arg);
			}
		}
	}
	close(fd);
	return rc;
}

/* ew_nft_surges' dump: where the elements go. */
struct surge_dump {
	int family;
	struct ew_nft_surge **v;
	size_t *n, cap;
};

static int
surge_one(const struct nlmsghdr *nh, void *arg)
{
	struct surge_dump *sd = arg;

	return surge_msg(nh, sd->family, sd->v, sd->n, &sd->cap);
}

int
ew_nft_surges(const char *set, int family, struct ew_nft_surge **v, size_t *n,
    struct ew_buf *err)
{
	struct nlbuf b;
	struct surge_dump sd = { family, v, n, 0 };
	uint32_t seq = (uint32_t)getpid() << 8 | 0x5e;
	size_t off;
	int rc;

	*v = NULL;
	*n = 0;
	if (strlen(set) >= NFT_SET_MAXNAMELEN)
		return -EINVAL;
	memset(&b, 0, sizeof(b));
	off = msg_begin(&b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM,
	    NLM_F_DUMP, seq, NFPROTO_INET, 0);
	attr_put(
	    &b, NFTA_SET_ELEM_LIST_TABLE, EW_NFT_TABLE, sizeof(EW_NFT_TABLE));
	attr_put(&b, NFTA_SET_ELEM_LIST_SET, set, strlen(set) + 1);
	msg_end(&b, off);
	rc = b.oom ? -ENOMEM : nl_dump(&b, seq, surge_one, &sd, 1, err);
	free(b.p);
	if (rc != 0) {
		free(*v);
		*v = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- a first load's second transaction (nft.h, ew_nft_golive) -------- */

/* Intervals per NEWSETELEM message of a load: each is at most 40 bytes,
 * and a message's element list must stay under 64 KiB (nla_len). */
#define EW_NL_LOAD_CHUNK 1024

/*
 * One rule of a dump, kept as it came: its expressions and its user
 * data (a comment), attributes ready to be put in a NEWRULE message.
 * In out: a 4-byte length, then that many bytes of attributes.
 */
static int
rule_keep(const struct nlmsghdr *nh, void *arg)
{
	struct nlbuf *out = arg;
	const unsigned char *p = NLMSG_DATA(nh);
	size_t len = nh->nlmsg_len - NLMSG_LENGTH(0), i;
	static const uint16_t keep[] = { NFTA_RULE_EXPRESSIONS,
		NFTA_RULE_USERDATA };
	uint32_t *total;
	size_t start;

	if (nh->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE) ||
	    len < NLMSG_ALIGN(sizeof(struct nfgenmsg)))
		return 0;
	p += NLMSG_ALIGN(sizeof(struct nfgenmsg));
	len -= NLMSG_ALIGN(sizeof(struct nfgenmsg));
	if ((total = nl_put(out, sizeof(*total))) == NULL)
		return -ENOMEM;
	start = out->len;
	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const struct nlattr *a = attr_find(p, len, keep[i]);
		void *d;

		if (a == NULL)
			continue;
		if ((d = nl_put(out, a->nla_len)) == NULL)
			return -ENOMEM;
		memcpy(d, a, a->nla_len);
	}
	total = (uint32_t *)(void *)(out->p + start - sizeof(*total));
	*total = (uint32_t)(out->len - start);
	return 0;
}

/* The rules of our chain `chain`, in order, into out (rule_keep). */
static int
dump_rules(const char *chain, struct nlbuf *out, struct ew_buf *err)
{
	struct nlbuf b;
	uint32_t seq = (uint32_t)getpid() << 8 | 0x7a;
	size_t off;
	int rc;

	memset(&b, 0, sizeof(b));
	off = msg_begin(&b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE,
	    NLM_F_DUMP, seq, NFPROTO_INET, 0);
	attr_put(&b, NFTA_RULE_TABLE, EW_NFT_TABLE, sizeof(EW_NFT_TABLE));
	attr_put(&b, NFTA_RULE_CHAIN, chain, strlen(chain) + 1);
	msg_end(&b, off);
	rc = b.oom ? -ENOMEM : nl_dump(&b, seq, rule_keep, out, 0, err);
	free(b.p);
	return rc;
}

static void
attr_u32(struct nlbuf *b, uint16_t type, uint32_t v)
{
	v = htonl(v);
	attr_put(b, type, &v, sizeof(v));
}

/* The batch's messages: their first sequence number and what each is
 * (for the kernel's errors), and which of them ask for an ack. */
struct batch {
	struct nlbuf b;
	uint32_t seq0, seq;
	const char **what; /* what[seq - seq0] */
	size_t nwhat, capwhat;
	uint32_t acks;
	int oom;
};

static size_t
batch_msg(struct batch *t, uint16_t type, uint16_t flags, const char *what)
{
	if (t->nwhat == t->capwhat) {
		size_t nc = t->capwhat ? t->capwhat * 2 : 64;
		const char **nv = realloc(t->what, nc * sizeof(*nv));

		if (nv == NULL) {
			t->oom = 1;
			nc = t->capwhat;
		} else {
			t->what = nv;
			t->capwhat = nc;
		}
	}
	if (t->nwhat < t->capwhat)
		t->what[t->nwhat++] = what;
	if (flags & NLM_F_ACK)
		t->acks++;
	return msg_begin(&t->b, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | type),
	    flags, t->seq++, NFPROTO_INET, 0);
}

/* Test builds: EW_TEST_NFT_BAD_ELEMENT=1 sends one element of the
 * first set with a key a byte short, which the kernel refuses. */
static int
bad_element_hook(void)
{
#ifdef EW_TEST_HOOKS
	const char *e = getenv("EW_TEST_NFT_BAD_ELEMENT");

	return e != NULL && strcmp(e, "1") == 0;
#else
	return 0;
#endif
}

/* One set's elements, as nft sends a set's first elements. */
static void
batch_set(struct batch *t, const struct ew_nft_bigset *s, int bad)
{
	size_t klen = s->family == EW_AF_INET ? 4 : 16, i, off = 0, list = 0;
	uint8_t zero[16], end[16];

	memset(zero, 0, sizeof(zero));
	for (i = 0; i < s->n; i++) {
		const uint8_t *lo = s->keys + 2 * klen * i;

		if (i % EW_NL_LOAD_CHUNK == 0) {
			if (i > 0) {
				nest_end(&t->b, list);
				msg_end(&t->b, off);
			}
			off = batch_msg(
			    t, NFT_MSG_NEWSETELEM, NLM_F_CREATE, s->name);
			attr_put(&t->b, NFTA_SET_ELEM_LIST_TABLE, EW_NFT_TABLE,
			    sizeof(EW_NFT_TABLE));
			attr_put(&t->b, NFTA_SET_ELEM_LIST_SET, s->name,
			    strlen(s->name) + 1);
			list = nest_begin(&t->b, NFTA_SET_ELEM_LIST_ELEMENTS);
		}
		/* nothing below the first interval: an end at 0 */
		if (i == 0 && memcmp(lo, zero, klen) != 0)
			put_elem(&t->b, zero, klen, 1);
		put_elem(&t->b, lo, bad && i == s->n / 2 ? klen - 1 : klen, 0);
		memcpy(end, lo + klen, klen);
		/* no end after an interval reaching the last address */
		if (!key_inc(end, klen))
			put_elem(&t->b, end, klen, 1);
	}
	if (s->n > 0) {
		nest_end(&t->b, list);
		msg_end(&t->b, off);
	}
}

static const uint32_t hooknum[] = {
	[EW_NFT_HOOK_PREROUTING] = NF_INET_PRE_ROUTING,
	[EW_NFT_HOOK_INPUT] = NF_INET_LOCAL_IN,
	[EW_NFT_HOOK_FORWARD] = NF_INET_FORWARD,
	[EW_NFT_HOOK_OUTPUT] = NF_INET_LOCAL_OUT,
	[EW_NFT_HOOK_POSTROUTING] = NF_INET_POST_ROUTING,
};

/* A base chain with its hook, the staged rules (rules: rule_keep's),
 * and its staging chain deleted. */
static void
batch_chain(struct batch *t, const struct ew_nft_basechain *c,
    const struct nlbuf *rules)
{
	size_t off, h, i;
	uint32_t n;

	off = batch_msg(t, NFT_MSG_NEWCHAIN,
	    NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, c->name);
	attr_put(&t->b, NFTA_CHAIN_TABLE, EW_NFT_TABLE, sizeof(EW_NFT_TABLE));
	attr_put(&t->b, NFTA_CHAIN_NAME, c->name, strlen(c->name) + 1);
	attr_put(&t->b, NFTA_CHAIN_TYPE, c->type, strlen(c->type) + 1);
	attr_u32(&t->b, NFTA_CHAIN_POLICY, c->accept ? NF_ACCEPT : NF_DROP);
	h = nest_begin(&t->b, NFTA_CHAIN_HOOK);
	attr_u32(&t->b, NFTA_HOOK_HOOKNUM, hooknum[c->hook]);
	attr_u32(&t->b, NFTA_HOOK_PRIORITY, (uint32_t)c->prio);
	nest_end(&t->b, h);
	msg_end(&t->b, off);
	for (i = 0; i + sizeof(n) <= rules->len; i += NLMSG_ALIGN(n)) {
		void *d;

		memcpy(&n, rules->p + i, sizeof(n));
		i += NLMSG_ALIGN(sizeof(n));
		off = batch_msg(t, NFT_MSG_NEWRULE,
		    NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, c->name);
		attr_put(
		    &t->b, NFTA_RULE_TABLE, EW_NFT_TABLE, sizeof(EW_NFT_TABLE));
		attr_put(&t->b, NFTA_RULE_CHAIN, c->name, strlen(c->name) + 1);
		if ((d = nl_put(&t->b, n)) != NULL)
			memcpy(d, rules->p + i, n);
		msg_end(&t->b, off);
	}
	/* the staging chain: its rules, then itself */
	off = batch_msg(t, NFT_MSG_DELRULE, NLM_F_ACK, c->stage);
	attr_put(&t->b, NFTA_RULE_TABLE, EW_NFT_TABLE, sizeof(EW_NFT_TABLE));
	attr_put(&t->b, NFTA_RULE_CHAIN, c->stage, strlen(c->stage) + 1);
	msg_end(&t->b, off);
	off = batch_msg(t, NFT_MSG_DELCHAIN, NLM_F_ACK, c->stage);
	attr_put(&t->b, NFTA_CHAIN_TABLE, EW_NFT_TABLE, sizeof(EW_NFT_TABLE));
	attr_put(&t->b, NFTA_CHAIN_NAME, c->stage, strlen(c->stage) + 1);
	msg_end(&t->b, off);
}

static int
set_bufsize(int fd, int force, int plain, size_t n)
{
	int v = n > (size_t)0x7fffffff - 65536 ? 0x7fffffff : (int)n + 65536;

	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, plain, &v, sizeof(v));
}

/*
 * Send a batch in one sendmsg and read what the kernel answers: the
 * acks of the messages that asked for one, and an error for any
 * message that failed (or for the batch's first message when the
 * commit failed).  nf_tables answers while it handles the batch, in
 * the sender's sendmsg, so every answer is queued when it returns.
 */
static int
batch_talk(const struct batch *t, struct ew_buf *err)
{
	struct timeval tv = { 60, 0 };
	unsigned char rbuf[16384];
	int fd, rc = 0, one = 1;
	uint32_t got = 0;

	if ((fd = nl_socket(err)) < 0)
		return fd;
	/* the whole batch in one message; errors without their request */
	(void)set_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF, t->b.len);
	(void)set_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF, 1u << 20);
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((rc = nl_send(fd, &t->b, 1, err)) != 0)
		goto out;
	while (got < t->acks) {
		/* after an error, only what is queued already */
		ssize_t n = recv(fd, rbuf, sizeof(rbuf), rc ? MSG_DONTWAIT : 0);
		struct nlmsghdr *nh;
		size_t left;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && rc != 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (rc == 0) {
				rc = n < 0 ? -errno : -EIO;
				ew_buf_printf(err, "netlink receive: %s\n",
				    n < 0 ? strerror(errno) : "end of stream");
			}
			break;
		}
		left = (size_t)n;
		for (nh = (struct nlmsghdr *)(void *)rbuf; NLMSG_OK(nh, left);
		     nh = NLMSG_NEXT(nh, left)) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);
			uint32_t k = nh->nlmsg_seq - t->seq0;

			if (nh->nlmsg_type != NLMSG_ERROR ||
			    nh->nlmsg_seq < t->seq0 - 1 ||
			    nh->nlmsg_seq >= t->seq)
				continue;
			if (e->error == 0) {
				got++;
				continue;
			}
			if (rc == 0)
				rc = e->error;
			if (nh->nlmsg_seq == t->seq0 - 1)
				ew_buf_printf(err, "nf_tables: %s (commit)\n",
				    strerror(-e->error));
			else
				ew_buf_printf(err, "nf_tables: %s (%s)\n",
				    strerror(-e->error),
				    k < t->nwhat ? t->what[k] : "?");
		}
	}
out:
	close(fd);
	return rc;
}

/* Our table's kernel handle, from a NEWTABLE reply. */
static int
handle_keep(const struct nlmsghdr *nh, void *arg)
{
	const unsigned char *p = NLMSG_DATA(nh);
	size_t len = nh->nlmsg_len - NLMSG_LENGTH(0);
	const struct nlattr *a;
	uint64_t v = 0;
	int i;

	if (nh->nlmsg_type !=
		((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE) ||
	    len < NLMSG_ALIGN(sizeof(struct nfgenmsg)))
		return 0;
	p += NLMSG_ALIGN(sizeof(struct nfgenmsg));
	len -= NLMSG_ALIGN(sizeof(struct nfgenmsg));
	a = attr_find(p, len, NFTA_TABLE_HANDLE);
	if (a == NULL || attr_len(a) != 8)
		return 0;
	for (i = 0; i < 8; i++)
		v = v << 8 | attr_data(a)[i];
	*(uint64_t *)arg = v;
	return 0;
}

static int
table_handle(uint64_t *h, struct ew_buf *err)
{
	struct nlbuf b;
	uint32_t seq = (uint32_t)getpid() << 8 | 0x7b;
	int rc;

	*h = 0;
	table_get(&b, seq);
	rc = b.oom ? -ENOMEM : nl_dump(&b, seq, handle_keep, h, 0, err);
	free(b.p);
	return rc == 0 && *h == 0 ? -EIO : rc;
}

/* Delete the table with this handle: the one the skeleton made, and
 * not one another load may have put in its place since. */
static int
table_delete(uint64_t h, struct ew_buf *err)
{
	struct nlbuf b;
	uint32_t seq = (uint32_t)getpid() << 8 | 0x7c, first;
	uint64_t be = 0;
	size_t off;
	int i, rc;

	for (i = 0; i < 8; i++)
		((uint8_t *)&be)[i] = (uint8_t)(h >> (56 - 8 * i));
	memset(&b, 0, sizeof(b));
	batch_mark(&b, NFNL_MSG_BATCH_BEGIN, seq++);
	first = seq;
	off = msg_begin(&b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE,
	    NLM_F_ACK, seq++, NFPROTO_INET, 0);
	if (h != 0)
		attr_put(&b, NFTA_TABLE_HANDLE, &be, sizeof(be));
	else /* the handle could not be read: by name */
		attr_put(
		    &b, NFTA_TABLE_NAME, EW_NFT_TABLE, sizeof(EW_NFT_TABLE));
	msg_end(&b, off);
	batch_mark(&b, NFNL_MSG_BATCH_END, seq);
	rc = b.oom ? -ENOMEM : nl_talk(&b, first, 1, err);
	free(b.p);
	return rc;
}

int
ew_nft_golive(const struct ew_nft_split *sp, struct ew_buf *err)
{
	struct batch t;
	struct nlbuf *rules;
	uint64_t handle;
	size_t i;
	int rc = 0, bad = bad_element_hook();

	if ((rc = table_handle(&handle, err)) == -ENOENT)
		return -EAGAIN; /* gone: not ours to load into */
	rules = calloc(sp->nchains + 1, sizeof(*rules));
	if (rules == NULL && rc == 0)
		rc = -ENOMEM;
	if (rc != 0)
		goto out;
	for (i = 0; rc == 0 && i < sp->nchains; i++)
		rc = dump_rules(sp->chains[i].stage, &rules[i], err);
	if (rc == -ENOENT) {
		/* no staging chain: not our skeleton any more */
		rc = -EAGAIN;
		goto free;
	}
	if (rc != 0)
		goto out;
	memset(&t, 0, sizeof(t));
	t.seq = (uint32_t)getpid() << 8;
	batch_mark(&t.b, NFNL_MSG_BATCH_BEGIN, t.seq++);
	t.seq0 = t.seq;
	for (i = 0; i < sp->nsets; i++)
		batch_set(&t, &sp->sets[i], bad && i == 0);
	for (i = 0; i < sp->nchains; i++)
		batch_chain(&t, &sp->chains[i], &rules[i]);
	batch_mark(&t.b, NFNL_MSG_BATCH_END, t.seq);
	rc = t.b.oom || t.oom ? -ENOMEM : batch_talk(&t, err);
	free(t.b.p);
	free(t.what);
out:
	if (rc != 0) {
		struct ew_buf e2 = EW_BUF_INIT;

		ew_buf_puts(err, table_delete(handle, &e2) == 0
				     ? "the elements and hooks did not load; "
				       "the table is deleted again\n"
				     : "the elements and hooks did not load\n");
		ew_buf_free(&e2);
	}
free:
	for (i = 0; rules != NULL && i < sp->nchains; i++)
		free(rules[i].p);
	free(rules);
	return rc;
}
