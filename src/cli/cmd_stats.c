/*
 * cmd_stats.c - exitwarden stats: the per-rule packet and byte counters
 * of table inet exitwarden (aggregates only: no address is ever kept).
 */
#include <errno.h>
#include <stdio.h>

#include "cli/cli.h"
#include "emit/nft.h"
#include "lib/buf.h"
#include "lib/json.h"

int
ew_cmd_stats(struct ew_args *a)
{
	struct ew_buf err = EW_BUF_INIT, out = EW_BUF_INIT;
	struct ew_nft_counter *v = NULL;
	size_t n = 0, i;
	int json = ew_cli_has(a, EW_OPT_JSON), rc;

	if ((rc = ew_cli_operands(a, 0, 0)) != 0)
		return rc;
	rc = ew_nft_counters(&v, &n, &err);
	if (rc == -ENOENT) {
		ew_cli_err("no table " EW_NFT_FAMILY " " EW_NFT_TABLE
			   " (run 'exitwarden nft apply' first)");
		ew_buf_free(&err);
		return EW_EXIT_FAIL;
	}
	if (rc < 0) {
		ew_cli_nft_err(&err, rc);
		ew_buf_free(&err);
		return EW_EXIT_FAIL;
	}
	if (json) {
		ew_buf_puts(&out, "[");
		for (i = 0; i < n; i++) {
			ew_buf_puts(
			    &out, i ? ",\n {\"counter\": " : "{\"counter\": ");
			ew_json_str(&out, v[i].name);
			ew_buf_puts(&out, ", \"rule\": ");
			ew_json_str(&out, v[i].comment ? v[i].comment : "");
			ew_buf_printf(&out,
			    ", \"packets\": %llu, \"bytes\": %llu}",
			    (unsigned long long)v[i].packets,
			    (unsigned long long)v[i].bytes);
		}
		ew_buf_puts(&out, "]\n");
	} else {
		ew_buf_printf(&out, "%-20s %12s %14s  %s\n", "counter",
		    "packets", "bytes", "rule");
		for (i = 0; i < n; i++)
			ew_buf_printf(&out, "%-20s %12llu %14llu  %s\n",
			    v[i].name, (unsigned long long)v[i].packets,
			    (unsigned long long)v[i].bytes,
			    v[i].comment ? v[i].comment : "");
	}
	rc = out.oom ? EW_EXIT_FAIL : EW_EXIT_OK;
	if (rc == EW_EXIT_OK && ew_cli_write(out.p, out.len) < 0)
		rc = EW_EXIT_FAIL;
	ew_nft_counters_free(v, n);
	ew_buf_free(&out);
	ew_buf_free(&err);
	return rc;
}
