/*
 * metrics.c - the metrics app: the instance's counters and gauges at GET /metrics
 *
 * A Prometheus scraper reaches the unikernel as it reaches any host: this
 * app serves, over tapir's own TCP on [app.NAME] port (9100, as
 * node_exporter), the text the control command "metrics" gives (the
 * counters of `tapir stats` and the occupancy gauges, daemon/control/
 * metrics.c), through the app context's metrics().  It runs on the HTTP
 * engine of conn.c (keep-alive, limits, idle timeout) without a store.
 *
 * GET and HEAD of /metrics (any query) answer 200 with the Prometheus text
 * format 0.0.4, or OpenMetrics 1.0 when the Accept field prefers
 * application/openmetrics-text (RFC 9110 12.5.1: media ranges with
 * q-values; the first of equal weights wins).  Other paths are 404, other
 * methods 405, and a runtime without metrics() 503.
 */
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

static bool metrics_handle(struct hconn *h, const struct http_request *req, const uint8_t *body,
			   size_t body_len)
{
	struct tapir_app_ctx *ctx = h->a->ctx;
	if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD)
		return http_respond_error(h, req, 405, "Allow: GET, HEAD\r\n");
	static char path[HTTP_MAX_PATH + 1];  /* the engine's target limit */
	int n = http_url_decode(&req->target, path, sizeof(path));
	if (n < 0)
		return http_respond_error(h, req, 400, NULL);
	if (strcmp(path, "/metrics"))
		return http_respond_error(h, req, 404, NULL);
	bool om = false;
	const struct http_str *acc = http_header_find(req, "accept");
	if (acc) {
		int w_om = http_accept_weight(acc, "application/openmetrics-text");
		int w_text = http_accept_weight(acc, "text/plain");
		om = w_om > 0 && w_om > w_text;
	}
	size_t len = 0;
	const char *ctype = NULL;
	char *text = ctx->metrics ? ctx->metrics(ctx, om, &len, &ctype) : NULL;
	if (!text)
		return http_respond_error(h, req, 503, NULL);
	bool ok = http_respond(h, req, 200, ctype, "Cache-Control: no-store\r\n", text, len, 0);
	free(text);
	return ok;
}

static const struct http_handler metrics_handler = {
	.type = "metrics",
	.keep_body = false,
	.no_store = true,
	.handle = metrics_handle,
};

static int metrics_start(struct tapir_app_ctx *ctx, void **state)
{
	return http_app_start(ctx, state, &metrics_handler);
}

const struct tapir_app_type app_metrics_type = {
	.conf = &app_metrics_conf,
	.start = metrics_start,
	.stop = http_app_stop,
};
