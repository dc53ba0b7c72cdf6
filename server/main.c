/*
 * main.c - command line entry point: `localecr serve` and friends.
 */
#include "server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/status.h"
#include "../registry/audit.h"

#define DEFAULT_LISTEN "127.0.0.1:5000"
#define DEFAULT_DATA_DIR "localecr-data"
#define DEFAULT_ACCOUNT_ID "000000000000"
#define DEFAULT_REGION "us-east-1"
/* NOTE: ECR does not document when abandoned uploads go; a day is
 * localecr's choice. */
#define DEFAULT_UPLOAD_EXPIRY_SECONDS 86400.0

static void usage(FILE *out)
{
	fprintf(out,
		"usage: localecr serve [options]\n"
		"       localecr fsck [--data-dir DIR]\n"
		"       localecr gc [--data-dir DIR] [--grace SECONDS]\n"
		"       localecr policy simulate --principal ARN --action ACTION --resource ARN ...\n"
		"       localecr policy validate [--kind identity|resource|trust] FILE\n"
		"       localecr audit query [--data-dir DIR] [--json] 'SQL'\n"
		"       localecr audit export [--data-dir DIR] --out DIR [--since RFC3339]\n"
		"       localecr events tail [--server URL] [--count N]\n"
		"       localecr ca print [--data-dir DIR]\n"
		"       localecr report findings [--data-dir DIR] [--severity LEVEL] [--repository NAME]\n"
		"                                [--format table|json|csv]\n"
		"       localecr seed FILE [--server URL]\n"
		"       localecr --help | --version\n"
		"\n"
		"A local, offline Amazon ECR: the OCI distribution API (/v2/) and the ECR\n"
		"JSON API on one port, over one store.\n"
		"\n"
		"serve options:\n"
		"  --listen ADDR:PORT   address to listen on; [::1]:PORT for IPv6\n"
		"                       (default " DEFAULT_LISTEN ")\n"
		"  --data-dir DIR       where the database and blobs live; created if missing\n"
		"                       (default ./" DEFAULT_DATA_DIR ")\n"
		"  --account-id ID      12-digit AWS account id of the registry\n"
		"                       (default " DEFAULT_ACCOUNT_ID ")\n"
		"  --region REGION      region named in /v2/ challenges (default " DEFAULT_REGION ")\n"
		"  --log-level LEVEL    error, warn, info or debug (default info)\n"
		"  --auth MODE          open (default): any well-formed credentials act as the\n"
		"                       account root; iam: verify SigV4 and enforce policies\n"
		"  --identities FILE    accounts, users, roles, keys and policies (JSON) for\n"
		"                       --auth iam; see fixtures/identities.example.json\n"
		"  --registry-suffix S  /v2/ hosts <account>.dkr.ecr.<region>.<S> select that\n"
		"                       account's registry (default localhost)\n"
		"  --create-on-push     create a missing repository on its first /v2/ push\n"
		"                       instead of answering NAME_UNKNOWN\n"
		"  --allow-immutable-repush\n"
		"                       accept pushing an immutable tag again to the digest it\n"
		"                       already names (ECR refuses; so does localecr by default)\n"
		"  --lifecycle-interval SECONDS\n"
		"                       apply lifecycle policies this often (default 3600; 0\n"
		"                       applies them only on POST /_localecr/lifecycle/run)\n"
		"  --audit-retention-days DAYS\n"
		"                       keep CloudTrail records this long (default 90; 0 keeps\n"
		"                       them forever)\n"
		"  --tls                serve HTTPS with a certificate from a local CA kept in the\n"
		"                       data directory (see localecr ca print)\n"
		"  --vuln-db DIR        folder of OSV advisories (*.json) to scan against; a\n"
		"                       change to it rescans CONTINUOUS_SCAN repositories\n"
		"  --events-file PATH   append every EventBridge-format event to PATH as a JSON line\n"
		"  --event-rules FILE   rules (event pattern and webhook or file targets), JSON\n"
		"  --allow-remote-webhooks\n"
		"                       let webhook targets name hosts other than loopback\n"
		"  --clock RFC3339      start the server clock at this time; it then advances in\n"
		"                       real time and POST /_localecr/clock moves it\n"
		"  --upload-expiry SECONDS\n"
		"                       remove upload sessions idle this long (default 86400)\n"
		"  --db-busy-timeout MS how long a request waits for a database lock held by\n"
		"                       another writer before failing (default 10000)\n"
		"  --seed FILE          create the repositories, settings, policies and images\n"
		"                       a seed file (JSON, docs/seed.md) lists before listening;\n"
		"                       POST /_localecr/reset loads it again\n"
		"\n"
		"fsck verifies every blob's digest and every reference and exits 1 on any\n"
		"problem.  gc removes blobs that no image references and that are older than\n"
		"--grace seconds (default 3600); both are safe while a server runs.\n");
}

static int parse_serve_options(int argc, char **argv, struct server_config *config)
{
	snprintf(config->listen, sizeof(config->listen), "%s", DEFAULT_LISTEN);
	snprintf(config->data_dir, sizeof(config->data_dir), "%s", DEFAULT_DATA_DIR);
	snprintf(config->account_id, sizeof(config->account_id), "%s", DEFAULT_ACCOUNT_ID);
	snprintf(config->region, sizeof(config->region), "%s", DEFAULT_REGION);
	config->upload_expiry = DEFAULT_UPLOAD_EXPIRY_SECONDS;
	config->lifecycle_interval = 3600;
	config->audit_retention_days = 90;
	config->db_busy_timeout_ms = REGISTRY_BUSY_TIMEOUT_DEFAULT_MS;
	snprintf(config->registry_suffix, sizeof(config->registry_suffix), "localhost");
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes_value = strcmp(opt, "--listen") == 0 || strcmp(opt, "--data-dir") == 0 ||
				   strcmp(opt, "--account-id") == 0 || strcmp(opt, "--region") == 0 ||
				   strcmp(opt, "--log-level") == 0 || strcmp(opt, "--upload-expiry") == 0 ||
				   strcmp(opt, "--db-busy-timeout") == 0 || strcmp(opt, "--auth") == 0 ||
				   strcmp(opt, "--identities") == 0 || strcmp(opt, "--registry-suffix") == 0 || strcmp(opt, "--clock") == 0 ||
				   strcmp(opt, "--lifecycle-interval") == 0 || strcmp(opt, "--audit-retention-days") == 0 ||
				   strcmp(opt, "--events-file") == 0 || strcmp(opt, "--event-rules") == 0 ||
				   strcmp(opt, "--vuln-db") == 0 || strcmp(opt, "--seed") == 0;

		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(opt, "--create-on-push") == 0) {
			config->create_on_push = true;
			continue;
		}
		if (strcmp(opt, "--tls") == 0) {
			config->tls = true;
			continue;
		}
		if (strcmp(opt, "--allow-remote-webhooks") == 0) {
			config->allow_remote_webhooks = true;
			continue;
		}
		if (strcmp(opt, "--allow-immutable-repush") == 0) {
			config->allow_immutable_repush = true;
			continue;
		}
		if (!takes_value) {
			fprintf(stderr, "localecr: unknown option '%s'; see localecr --help\n", opt);
			return -1;
		}
		if (value == NULL) {
			fprintf(stderr, "localecr: option %s needs a value\n", opt);
			return -1;
		}
		i++;
		if (strcmp(opt, "--listen") == 0) {
			snprintf(config->listen, sizeof(config->listen), "%s", value);
		} else if (strcmp(opt, "--data-dir") == 0) {
			snprintf(config->data_dir, sizeof(config->data_dir), "%s", value);
		} else if (strcmp(opt, "--account-id") == 0) {
			if (strlen(value) != 12 || strspn(value, "0123456789") != 12) {
				fprintf(stderr, "localecr: invalid --account-id '%s': expected 12 digits\n", value);
				return -1;
			}
			snprintf(config->account_id, sizeof(config->account_id), "%s", value);
		} else if (strcmp(opt, "--region") == 0) {
			if (strlen(value) == 0 || strlen(value) >= sizeof(config->region) ||
			    strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(value)) {
				fprintf(stderr, "localecr: invalid --region '%s': expected a name like us-east-1\n", value);
				return -1;
			}
			snprintf(config->region, sizeof(config->region), "%s", value);
		} else if (strcmp(opt, "--seed") == 0) {
			snprintf(config->seed_path, sizeof(config->seed_path), "%s", value);
		} else if (strcmp(opt, "--vuln-db") == 0) {
			snprintf(config->vuln_db, sizeof(config->vuln_db), "%s", value);
		} else if (strcmp(opt, "--events-file") == 0) {
			snprintf(config->events_file, sizeof(config->events_file), "%s", value);
		} else if (strcmp(opt, "--event-rules") == 0) {
			snprintf(config->event_rules, sizeof(config->event_rules), "%s", value);
		} else if (strcmp(opt, "--audit-retention-days") == 0) {
			char *end;
			double days = strtod(value, &end);

			if (*value == '\0' || *end != '\0' || days < 0) {
				fprintf(stderr, "localecr: invalid --audit-retention-days '%s': expected days, 0 or more\n",
					value);
				return -1;
			}
			config->audit_retention_days = days;
		} else if (strcmp(opt, "--lifecycle-interval") == 0) {
			char *end;
			double seconds = strtod(value, &end);

			if (*value == '\0' || *end != '\0' || seconds < 0) {
				fprintf(stderr, "localecr: invalid --lifecycle-interval '%s': expected seconds, 0 or more\n",
					value);
				return -1;
			}
			config->lifecycle_interval = seconds;
		} else if (strcmp(opt, "--clock") == 0) {
			double t;

			if (clock_parse_rfc3339(value, &t) != 0) {
				fprintf(stderr, "localecr: invalid --clock '%s': expected RFC 3339, e.g. 2024-01-01T00:00:00Z\n",
					value);
				return -1;
			}
			clock_set(t);
		} else if (strcmp(opt, "--auth") == 0) {
			if (strcmp(value, "open") != 0 && strcmp(value, "iam") != 0) {
				fprintf(stderr, "localecr: invalid --auth '%s': expected open or iam\n", value);
				return -1;
			}
			config->iam_mode = strcmp(value, "iam") == 0;
		} else if (strcmp(opt, "--identities") == 0) {
			snprintf(config->identities_path, sizeof(config->identities_path), "%s", value);
		} else if (strcmp(opt, "--registry-suffix") == 0) {
			if (strlen(value) == 0 || strlen(value) >= sizeof(config->registry_suffix)) {
				fprintf(stderr, "localecr: invalid --registry-suffix '%s'\n", value);
				return -1;
			}
			snprintf(config->registry_suffix, sizeof(config->registry_suffix), "%s", value);
		} else if (strcmp(opt, "--db-busy-timeout") == 0) {
			char *end;
			long ms = strtol(value, &end, 10);

			if (*value == '\0' || *end != '\0' || ms < 0 || ms > 600000) {
				fprintf(stderr, "localecr: invalid --db-busy-timeout '%s': expected milliseconds from 0 to "
					"600000\n", value);
				return -1;
			}
			config->db_busy_timeout_ms = (int)ms;
		} else if (strcmp(opt, "--upload-expiry") == 0) {
			char *end;
			double seconds = strtod(value, &end);

			if (*value == '\0' || *end != '\0' || seconds < 1 || seconds > 365 * 86400.0) {
				fprintf(stderr, "localecr: invalid --upload-expiry '%s': expected seconds from 1 to 31536000\n",
					value);
				return -1;
			}
			config->upload_expiry = seconds;
		} else {
			int level = log_level_parse(value);

			if (level < 0) {
				fprintf(stderr, "localecr: invalid --log-level '%s': expected error, warn, info or debug\n",
					value);
				return -1;
			}
			log_threshold = level;
		}
	}
	if (config->iam_mode && config->identities_path[0] == '\0') {
		fprintf(stderr, "localecr: --auth iam needs --identities FILE\n");
		return -1;
	}
	if (!config->iam_mode && config->identities_path[0] != '\0') {
		fprintf(stderr, "localecr: --identities needs --auth iam\n");
		return -1;
	}
	return 0;
}

/* Apply the --seed file before the server listens. */
static int serve_seed(struct server *srv)
{
	char err[2048];
	json_t *summary = NULL;
	int status = seed_apply_file(srv, srv->config.seed_path, &summary, err, sizeof(err));

	if (status != LCR_OK) {
		log_error("cannot apply the seed file: %s", err);
		return status;
	}
	log_info("seeded from %s: %lld repositories, %lld images", srv->config.seed_path,
		 (long long)json_integer_value(json_object_get(summary, "repositories")),
		 (long long)json_integer_value(json_object_get(summary, "images")));
	json_decref(summary);
	return LCR_OK;
}

static int serve(int argc, char **argv)
{
	static struct server srv;
	char err[1024];
	sigset_t signals;
	int sig = 0;

	if (parse_serve_options(argc, argv, &srv.config) < 0)
		return 2;
	srv.started_at = clock_now();
	if (srv.config.iam_mode &&
	    identity_store_load(srv.config.identities_path, &srv.identities, err, sizeof(err)) != LCR_OK) {
		log_error("cannot load identities: %s", err);
		return 1;
	}
	/* Block the stop signals before any thread starts, so that only
	 * sigwait below receives them. */
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (registry_open(srv.config.data_dir, true, &srv.registry, err, sizeof(err)) != LCR_OK) {
		log_error("cannot open data directory: %s", err);
		return 1;
	}
	registry_set_busy_timeout(srv.registry, srv.config.db_busy_timeout_ms);
	registry_set_allow_immutable_repush(srv.registry, srv.config.allow_immutable_repush);
	if (registry_secret_load(srv.registry, "token.key", srv.token_key, sizeof(srv.token_key), err, sizeof(err)) !=
	    LCR_OK) {
		log_error("cannot load the registry token key: %s", err);
		registry_close(srv.registry);
		return 1;
	}
	if (srv.config.seed_path[0] != '\0' && serve_seed(&srv) != LCR_OK) {
		registry_close(srv.registry);
		return 1;
	}
	if (events_start(&srv, err, sizeof(err)) != LCR_OK) {
		log_error("cannot start events: %s", err);
		registry_close(srv.registry);
		return 1;
	}
	/* Request threads read srv.audit, so it is set before they start. */
	if (audit_open(srv.config.data_dir, srv.config.audit_retention_days, &srv.audit, err, sizeof(err)) != LCR_OK)
		log_warn("audit trail disabled: %s", err);
	if (server_start(&srv, err, sizeof(err)) != LCR_OK) {
		log_error("%s", err);
		audit_close(srv.audit);
		registry_close(srv.registry);
		return 1;
	}
	srv.last_lifecycle_run = clock_now();
	if (scans_start(&srv) != LCR_OK)
		log_warn("cannot start the scan worker; scans stay queued");
	if (maintenance_start(&srv) != LCR_OK)
		log_warn("cannot start the maintenance thread; idle uploads will not expire");
	log_info("localecr %s listening on %s://%s (data dir %s, account %s, region %s, %s mode%s)",
		 LOCALECR_VERSION, srv.config.tls ? "https" : "http", srv.bound_address, srv.config.data_dir, srv.config.account_id, srv.config.region,
		 srv.config.iam_mode ? "iam" : "open", srv.config.create_on_push ? ", create on push" : "");
	sigwait(&signals, &sig);
	log_info("received signal %d, stopping", sig);
	server_stop(&srv);
	maintenance_stop(&srv);
	scans_stop();
	audit_close(srv.audit);
	events_stop();
	registry_close(srv.registry);
	identity_store_free(srv.identities);
	log_info("stopped");
	return 0;
}

/* Parse the options of fsck and gc: --data-dir and, for gc, --grace. */
static int parse_store_options(int argc, char **argv, bool allow_grace, char *data_dir, size_t data_dir_len,
			       double *grace)
{
	snprintf(data_dir, data_dir_len, "%s", DEFAULT_DATA_DIR);
	for (int i = 0; i < argc; i++) {
		const char *value = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--data-dir") == 0 && value != NULL) {
			snprintf(data_dir, data_dir_len, "%s", value);
			i++;
		} else if (allow_grace && strcmp(argv[i], "--grace") == 0 && value != NULL) {
			char *end;

			*grace = strtod(value, &end);
			if (*value == '\0' || *end != '\0' || *grace < 0) {
				fprintf(stderr, "localecr: invalid --grace '%s': expected seconds, 0 or more\n", value);
				return -1;
			}
			i++;
		} else {
			fprintf(stderr, "localecr: unknown or incomplete option '%s'; see localecr --help\n", argv[i]);
			return -1;
		}
	}
	return 0;
}

static int open_existing_store(const char *data_dir, struct registry **out)
{
	char err[1024], path[1100];

	snprintf(path, sizeof(path), "%s/localecr.db", data_dir);
	if (access(path, F_OK) != 0) {
		fprintf(stderr, "localecr: no localecr data directory at %s\n", data_dir);
		return -1;
	}
	if (registry_open(data_dir, false, out, err, sizeof(err)) != LCR_OK) {
		fprintf(stderr, "localecr: cannot open %s: %s\n", data_dir, err);
		return -1;
	}
	return 0;
}

static int fsck_command(int argc, char **argv)
{
	struct registry *reg;
	char data_dir[1024];
	int problems = 0;

	if (parse_store_options(argc, argv, false, data_dir, sizeof(data_dir), NULL) < 0)
		return 2;
	if (open_existing_store(data_dir, &reg) < 0)
		return 2;
	if (registry_fsck(reg, stdout, &problems) != LCR_OK) {
		registry_close(reg);
		return 2;
	}
	registry_close(reg);
	return problems == 0 ? 0 : 1;
}

static int gc_command(int argc, char **argv)
{
	struct registry *reg;
	char data_dir[1024], err[1024];
	double grace = 3600;
	int removed = 0;
	int64_t bytes = 0;

	if (parse_store_options(argc, argv, true, data_dir, sizeof(data_dir), &grace) < 0)
		return 2;
	if (open_existing_store(data_dir, &reg) < 0)
		return 2;
	if (registry_gc(reg, grace, &removed, &bytes, err, sizeof(err)) != LCR_OK) {
		fprintf(stderr, "localecr: gc failed: %s\n", err);
		registry_close(reg);
		return 1;
	}
	printf("removed %d blob(s), %lld bytes\n", removed, (long long)bytes);
	registry_close(reg);
	return 0;
}

/* localecr audit query|export: read-only work on <data>/audit.db. */
static int audit_command(int argc, char **argv)
{
	const char *data_dir = DEFAULT_DATA_DIR, *sql = NULL, *out_dir = NULL;
	bool json_lines = false;
	double since = 0;

	if (argc < 1 || (strcmp(argv[0], "query") != 0 && strcmp(argv[0], "export") != 0)) {
		fprintf(stderr, "usage: localecr audit query [--data-dir DIR] [--json] 'SQL'\n"
				"       localecr audit export [--data-dir DIR] --out DIR [--since RFC3339]\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) {
			data_dir = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			json_lines = true;
		} else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
			out_dir = argv[++i];
		} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			if (clock_parse_rfc3339(argv[++i], &since) != 0) {
				fprintf(stderr, "localecr: invalid --since '%s': expected RFC 3339\n", argv[i]);
				return 2;
			}
		} else if (sql == NULL && argv[i][0] != '-') {
			sql = argv[i];
		} else {
			fprintf(stderr, "localecr: unknown or incomplete option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (strcmp(argv[0], "query") == 0) {
		if (sql == NULL) {
			fprintf(stderr, "localecr: audit query needs the SQL to run\n");
			return 2;
		}
		return audit_query(data_dir, sql, json_lines, stdout, stderr);
	}
	if (out_dir == NULL) {
		fprintf(stderr, "localecr: audit export needs --out DIR\n");
		return 2;
	}
	return audit_export(data_dir, out_dir, since, stdout, stderr);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("localecr %s\n", LOCALECR_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0)
		return serve(argc - 2, argv + 2);
	if (strcmp(argv[1], "fsck") == 0)
		return fsck_command(argc - 2, argv + 2);
	if (strcmp(argv[1], "gc") == 0)
		return gc_command(argc - 2, argv + 2);
	if (strcmp(argv[1], "policy") == 0)
		return policy_command(argc - 2, argv + 2);
	if (strcmp(argv[1], "audit") == 0)
		return audit_command(argc - 2, argv + 2);
	if (strcmp(argv[1], "events") == 0)
		return events_tail_command(argc - 2, argv + 2);
	if (strcmp(argv[1], "ca") == 0)
		return ca_command(argc - 2, argv + 2, DEFAULT_DATA_DIR);
	if (strcmp(argv[1], "report") == 0)
		return report_command(argc - 2, argv + 2, DEFAULT_DATA_DIR);
	if (strcmp(argv[1], "seed") == 0)
		return seed_command(argc - 2, argv + 2);
	fprintf(stderr, "localecr: unknown command '%s'; see localecr --help\n", argv[1]);
	return 2;
}
