/*
 * xarf.c - XARF JSON reports, v1 to v4 (the only file using jansson).
 *
 * v1-v3 nest the facts under "Report" (SourceIp, SourcePort,
 * DestinationIp, DestinationPort, Date, ReportClass, ReportType) and the
 * reporter under "ReporterInfo"; v4 is flat (source_identifier,
 * source_port, destination_ip, destination_port, ports_scanned,
 * first_seen / timestamp, category, type, reporter{org,contact,domain}).
 * A source_identifier that is a host name, not an address, gives no
 * incident.  Times are RFC 3339 with "Z" or an offset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/num.h"
#include "mail/mail_int.h"

static const char *
str(json_t *o, const char *k)
{
	json_t *v = o != NULL ? json_object_get(o, k) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A port given as a number or a numeric string; -1 when absent. */
static long
port(json_t *o, const char *k)
{
	json_t *v = o != NULL ? json_object_get(o, k) : NULL;
	uint64_t p;

	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		return i >= 1 && i <= 65535 ? (long)i : -1;
	}
	if (json_is_string(v) &&
	    ew_parse_uint(json_string_value(v), strlen(json_string_value(v)), 1,
		65535, &p) == 0)
		return (long)p;
	return -1;
}

static int
addr_of(const char *s, char *out, size_t cap)
{
	struct ew_addr a;
	static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };

	if (s == NULL || !ew_addr_parse(s, &a))
		return 0;
	if (a.family == EW_AF_INET6 && memcmp(a.b, pfx, 12) == 0) {
		memmove(a.b, a.b + 12, 4);
		memset(a.b + 4, 0, 12);
		a.family = EW_AF_INET;
	}
	ew_addr_format(&a, 0, out, cap);
	return 1;
}

static void
port_item(struct ew_buf *b, long p)
{
	if (p <= 0)
		return;
	if (b->len > 0)
		ew_buf_putc(b, ',');
	ew_buf_printf(b, "%ld", p);
}

static void
port_array(struct ew_buf *b, json_t *arr)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return;
	json_array_foreach(arr, i, v)
	{
		if (json_is_integer(v) && json_integer_value(v) >= 1 &&
		    json_integer_value(v) <= 65535)
			port_item(b, (long)json_integer_value(v));
	}
}

static const char *
category(const char *type, const char *cls)
{
	char t[64];
	const char *c = NULL;
	size_t k;

	if (type != NULL) {
		snprintf(t, sizeof(t), "%s", type);
		for (k = 0; t[k] != '\0'; k++)
			if (t[k] == '_')
				t[k] = ' ';
		c = ew_mail_category(t, strlen(t));
	}
	if (c == NULL && cls != NULL)
		c = ew_mail_category(cls, strlen(cls));
	return c != NULL ? c : "other";
}

static void
set_reporter(struct ew_complaint *c, const char *r)
{
	if (r == NULL || *r == '\0')
		return;
	free(c->reporter);
	c->reporter = ew_strndup(r, strlen(r));
}

int
ew_extract_xarf_json(struct ew_complaint *c, const char *data, size_t len)
{
	json_error_t err;
	json_t *root = json_loadb(data, len, 0, &err), *rep;
	struct ew_incident in;
	struct ew_buf pb = EW_BUF_INIT;
	const char *src, *dst, *when, *until = NULL;
	struct ew_mtime end;
	long dport;
	int v4, rc = 1;

	if (!json_is_object(root)) {
		json_decref(root);
		return 0;
	}
	v4 = json_object_get(root, "xarf_version") != NULL;
	rep = json_object_get(root, "Report");
	if (!v4 && !json_is_object(rep)) {
		json_decref(root);
		return 0;
	}
	memset(&in, 0, sizeof(in));
	c->format = "xarf";
	c->confidence = "high";
	if (v4) {
		json_t *r = json_object_get(root, "reporter");

		set_reporter(c, str(r, "contact"));
		c->category =
		    category(str(root, "type"), str(root, "category"));
		src = str(root, "source_identifier");
		in.src_port = port(root, "source_port");
		dst = str(root, "destination_ip");
		dport = port(root, "destination_port");
		port_item(&pb, dport);
		port_array(&pb, json_object_get(root, "ports_scanned"));
		port_array(&pb, json_object_get(root, "targeted_ports"));
		when = str(root, "first_seen");
		/* first_seen .. last_seen (else the report's timestamp) */
		if (when != NULL && (until = str(root, "last_seen")) == NULL)
			until = str(root, "timestamp");
		if (when == NULL)
			when = str(root, "timestamp");
	} else {
		json_t *ri = json_object_get(root, "ReporterInfo");

		set_reporter(c, str(ri, "ReporterOrgEmail"));
		c->category =
		    category(str(rep, "ReportType"), str(rep, "ReportClass"));
		src = str(rep, "SourceIp");
		in.src_port = port(rep, "SourcePort");
		dst = str(rep, "DestinationIp");
		port_item(&pb, port(rep, "DestinationPort"));
		when = str(rep, "Date");
	}
	if (addr_of(src, in.src, sizeof(in.src))) {
		if (!addr_of(dst, in.dst, sizeof(in.dst)))
			in.dst[0] = '\0';
		if (pb.len > 0)
			in.ports = ew_strndup(ew_buf_str(&pb), pb.len);
		if (when == NULL ||
		    ew_mail_time_parse(when, strlen(when), &in.tm) < 0) {
			memset(&in.tm, 0, sizeof(in.tm));
			in.tm.zs = EW_ZONE_NONE;
		} else if (until != NULL &&
			   ew_mail_time_parse(until, strlen(until), &end) ==
			       0 &&
			   end.t > in.tm.t) {
			in.tm.from = in.tm.t;
			in.tm.to = end.t;
			in.tm.has_from = in.tm.has_to = 1;
		}
		if (ew_complaint_add(c, &in) < 0)
			rc = -1;
	}
	ew_buf_free(&pb);
	json_decref(root);
	return rc;
}
