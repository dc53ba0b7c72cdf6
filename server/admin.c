/* admin.c - endpoints under /_localecr/ for scripts and tests. */
#include "server.h"

#include "../common/clock.h"
#include "../common/status.h"

int admin_health(struct request *req)
{
	request_respond_json(req, MHD_HTTP_OK,
			     json_pack("{s:s, s:s, s:f}", "status", "ok", "version", LOCALECR_VERSION, "uptime_seconds",
				       clock_now() - req->srv->started_at));
	return LCR_OK;
}
