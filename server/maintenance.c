/*
 * maintenance.c - background work of a running server: expiring upload
 * sessions that saw no activity for --upload-expiry seconds, and applying
 * lifecycle policies every --lifecycle-interval seconds.
 *
 * The thread wakes at most every 60 seconds (more often for short expiry
 * settings, so tests need not wait long) and reads the server clock, so a
 * moved clock expires sessions on the next pass.
 */
#include "server.h"

#include <errno.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"

static double pass_interval(const struct server *srv)
{
	double interval = srv->config.upload_expiry / 2;

	if (srv->config.lifecycle_interval > 0 && srv->config.lifecycle_interval / 2 < interval)
		interval = srv->config.lifecycle_interval / 2;

	if (interval < 1)
		interval = 1;
	if (interval > 60)
		interval = 60;
	return interval;
}

/* Apply every lifecycle policy when --lifecycle-interval has passed on the
 * server clock. */
static void run_lifecycle_if_due(struct server *srv)
{
	json_t *expired, *transitioned;
	int count = 0;

	if (srv->config.lifecycle_interval <= 0 || clock_now() - srv->last_lifecycle_run < srv->config.lifecycle_interval)
		return;
	srv->last_lifecycle_run = clock_now();
	expired = json_array();
	transitioned = json_array();
	if (lifecycle_apply_all(srv, NULL, expired, transitioned, &count) == LCR_OK && count > 0)
		log_info("scheduled lifecycle run: %d repositories, %zu expired, %zu archived", count,
			 json_array_size(expired), json_array_size(transitioned));
	json_decref(expired);
	json_decref(transitioned);
}

static void *maintenance_main(void *arg)
{
	struct server *srv = arg;

	pthread_mutex_lock(&srv->maintenance_lock);
	while (!srv->stopping) {
		struct timespec deadline;
		double interval = pass_interval(srv);
		int removed = 0;

		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += (time_t)interval;
		pthread_cond_timedwait(&srv->maintenance_wake, &srv->maintenance_lock, &deadline);
		if (srv->stopping)
			break;
		pthread_mutex_unlock(&srv->maintenance_lock);
		if (registry_upload_expire(srv->registry, srv->config.upload_expiry, &removed) != LCR_OK)
			log_warn("upload expiry pass failed; retrying on the next pass");
		run_lifecycle_if_due(srv);
		scans_check_database(srv);
		pthread_mutex_lock(&srv->maintenance_lock);
	}
	pthread_mutex_unlock(&srv->maintenance_lock);
	return NULL;
}

int maintenance_start(struct server *srv)
{
	pthread_mutex_init(&srv->maintenance_lock, NULL);
	pthread_cond_init(&srv->maintenance_wake, NULL);
	srv->stopping = false;
	if (pthread_create(&srv->maintenance_thread, NULL, maintenance_main, srv) != 0)
		return LCR_ERR_INTERNAL;
	srv->maintenance_running = true;
	return LCR_OK;
}

void maintenance_stop(struct server *srv)
{
	if (!srv->maintenance_running)
		return;
	pthread_mutex_lock(&srv->maintenance_lock);
	srv->stopping = true;
	pthread_cond_signal(&srv->maintenance_wake);
	pthread_mutex_unlock(&srv->maintenance_lock);
	pthread_join(srv->maintenance_thread, NULL);
	srv->maintenance_running = false;
}
