/* report_deliver.c - the deliverability checks as text and as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver.h"
#include "report.h"
#include "util.h"

void
deliver_text(FILE *out, const struct deliver_report *r, bool color)
{
	const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
	fprintf(out, "%s--- deliverability of %s%s\n", bold, r->domain, reset);
	for (int i = 0; i < r->n; i++) {
		const struct dcheck *c = &r->v[i];
		const char *mark = c->status == DS_OK ? "ok  " :
				   c->status == DS_WARN ? "warn" : "FAIL";
		const char *col = !color ? "" : c->status == DS_OK ? "\033[32m" :
				  c->status == DS_WARN ? "\033[33m" : "\033[31m";
		fprintf(out, "\n%s%s%s  %s%s%s\n", col, mark, reset, bold, c->check,
			reset);
		if (c->record && *c->record) {
			fputs("  record:   ", out);
			report_wrap(out, c->record, 12, 100);
		}
		fputs("  verdict:  ", out);
		report_wrap(out, c->verdict ? c->verdict : "", 12, 78);
		fputs("  why:      ", out);
		report_wrap(out, c->why, 12, 78);
		if (c->publish) {
			fputs("  publish:  ", out);
			report_wrap(out, c->publish, 12, 100);
		}
		for (size_t k = 0; k < c->diags.n; k++)
			report_diagnosis(out, &c->diags.v[k], color, false);
	}
	fprintf(out, "\nresult: %s\n", deliver_exit_status(r) ? "fail" : "ok");
}

char *
deliver_json(const struct deliver_report *r)
{
	struct buf b = { 0 };
	buf_adds(&b, "{\"target\":{\"domain\":");
	json_string(&b, r->domain);
	buf_printf(&b, "},\"result\":\"%s\",\"deliverability\":[",
		   deliver_exit_status(r) ? "fail" : "ok");
	for (int i = 0; i < r->n; i++) {
		const struct dcheck *c = &r->v[i];
		if (i)
			buf_addc(&b, ',');
		buf_adds(&b, "{\"check\":");
		json_string(&b, c->check);
		buf_printf(&b, ",\"status\":\"%s\",\"record\":", dstatus_name(c->status));
		json_string(&b, c->record ? c->record : "");
		buf_adds(&b, ",\"verdict\":");
		json_string(&b, c->verdict ? c->verdict : "");
		buf_adds(&b, ",\"why\":");
		json_string(&b, c->why);
		if (c->publish) {
			buf_adds(&b, ",\"publish\":");
			json_string(&b, c->publish);
		}
		buf_adds(&b, ",\"diagnoses\":");
		report_json_diags(&b, &c->diags);
		buf_addc(&b, '}');
	}
	buf_adds(&b, "],\"diagnoses\":[");
	bool first = true;
	for (int i = 0; i < r->n; i++) {
		const struct diag_list *l = &r->v[i].diags;
		if (!l->n)
			continue;
		struct buf one = { 0 };
		report_json_diags(&one, l);
		/* strip the brackets: items of one list into the flat one */
		if (!first)
			buf_addc(&b, ',');
		buf_add(&b, one.data + 1, one.len - 2);
		first = false;
		buf_free(&one);
	}
	buf_adds(&b, "]}\n");
	return buf_steal(&b);
}
