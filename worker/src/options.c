/*
 * options.c: the one option parser of every `pgai` command. A command's
 * cmd_spec says which options it takes (the rest are unknown to it) and
 * gives its usage text; the worker's options, defaults and usage are here
 * too. Vectorizer ids, counts and durations are checked the same way for
 * every command: bad usage prints why and exits 2.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "util.h"

/* "5s", "250ms", "2m", "1h", or plain seconds; -1 when malformed. */
static double
parse_duration(const char *s)
{
	char	   *end;
	double		v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return v;
	if (strcmp(end, "ms") == 0)
		return v / 1000;
	if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		return v * 60;
	if (strcmp(end, "h") == 0)
		return v * 3600;
	return -1;
}

static const cmd_spec worker_spec = {
	"vectorizer worker", true, false, false, 0,
	"usage: pgai vectorizer worker [options]\n"
	"\n"
	"Embeds the rows queued by the database's vectorizers and keeps their\n"
	"embedding stores in sync. Any number of workers may share a database.\n"
	"\n"
	"  -d, --db-url URL        libpq connection string or URI (default: PG* variables)\n"
	"      --once              process everything pending (rows backing off from an\n"
	"                          earlier failure included), then exit\n"
	"  -i, --vectorizer-id ID  serve only this vectorizer (repeatable)\n"
	"      --poll-interval T   how often to look for work when idle (default 5s)\n"
	"  -c, --concurrency N     worker threads, one connection each (default: cores, up to 4)\n"
	"                          (a vectorizer's processing concurrency caps those on it)\n"
	"      --batch-size N      rows per claim (default: the vectorizer's, else 400)\n"
	"      --max-attempts N    failures before a row moves to the failed queue (default 6)\n"
	"      --retry-backoff T   wait before the first retry, doubling each time (default 10s)\n"
	"      --lease T           how long a claim holds its rows (default 5m)\n"
	"      --request-timeout T time allowed for one HTTP request (default 2m)\n"
	"      --http-retries N    retries of a failed HTTP request (default 5)\n"
	"  -h, --help              show this help\n"
	"\n"
	"Environment: OPENAI_API_KEY (or the variable a vectorizer's api_key_name names),\n"
	"OPENAI_BASE_URL, OLLAMA_HOST, VOYAGE_API_KEY, PGAI_MODEL_DIR.\n"
	"A vectorizer's base_url must be a provider's public endpoint, OPENAI_BASE_URL,\n"
	"OLLAMA_HOST, or under a prefix in PGAI_ALLOWED_BASE_URLS (comma-separated).\n"
	"Its api_key_name must end in _API_KEY, or, when PGAI_API_KEY_NAMES is set\n"
	"(comma-separated names), be one of those names.\n"
	"Exit status: 0 done (with --once: the queues are empty), 1 some rows failed\n"
	"or, with --once, rows remain queued (their count and why are logged),\n"
	"2 bad usage, 3 cannot run.\n",
	true, false
};

/* The worker's defaults. */
static void
worker_defaults(worker_options *o)
{
	o->poll_interval = 5;
	/* one thread a core (up to 4): HTTP waits and database writes overlap */
	o->concurrency = (int) Min(Max(sysconf(_SC_NPROCESSORS_ONLN), 1), 4);
	o->max_attempts = 6;
	o->retry_backoff = 10;
	o->lease_seconds = 300;
	o->http_retries = -1;
	o->progress = isatty(STDERR_FILENO);
}

/* One of the worker's own options; -1 to go on, else the exit status. */
static int
worker_option(int ch, const char *arg, worker_options *o)
{
	char	   *end;

	switch (ch)
	{
		case 'o':
			o->once = true;
			return -1;
		case 'p':
		case 'r':
		case 'l':
		case 't':
			{
				double		d = parse_duration(arg);

				if (d < 0 || (ch != 'r' && d == 0))
				{
					fprintf(stderr, "pgai: invalid duration \"%s\" (use 500ms, 5s, 2m, 1h)\n", arg);
					return 2;
				}
				*(ch == 'p' ? &o->poll_interval : ch == 'r' ? &o->retry_backoff :
				  ch == 'l' ? &o->lease_seconds : &o->request_timeout) = d;
				return -1;
			}
		case 'R':
			{
				long		n = strtol(arg, &end, 10);

				if (*end != '\0' || n < 0 || n > 100)
				{
					fprintf(stderr, "pgai: invalid number \"%s\"\n", arg);
					return 2;
				}
				o->http_retries = (int) n;
				return -1;
			}
		default:				/* c, b, m */
			{
				long		n = strtol(arg, &end, 10);

				if (*end != '\0' || n <= 0 || n > 100000)
				{
					fprintf(stderr, "pgai: invalid number \"%s\"\n", arg);
					return 2;
				}
				*(ch == 'c' ? &o->concurrency : ch == 'b' ? &o->batch_size : &o->max_attempts) = (int) n;
				return -1;
			}
	}
}

/* ---------------------------------------------------------------------- */
/* After a usage error, on stderr: where the full usage is. */
void
usage_hint(const cmd_spec *spec)
{
	fprintf(stderr, "Try \"pgai %s --help\" for more information.\n", spec->name);
}

/* A vectorizer id: a positive int. */
bool
parse_id(const char *s, int *out)
{
	char	   *end;
	long		v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v <= 0 || v > INT_MAX)
	{
		fprintf(stderr, "pgai: invalid vectorizer id \"%s\"\n", s);
		return false;
	}
	*out = (int) v;
	return true;
}

void
add_id(worker_options *o, int id)
{
	o->ids = xrealloc(o->ids, (size_t) (o->n_ids + 1) * sizeof(int));
	o->ids[o->n_ids++] = id;
}

/*
 * Parses argv (argv[0] is the command's last word) into `o`. Returns -1
 * when the command should go on, else the exit status (0 after --help).
 */
static int
parse_options_once(const cmd_spec *spec, int argc, char **argv, worker_options *o)
{
	static const struct option longopts[] = {
		{"db-url", required_argument, NULL, 'd'},
		{"vectorizer-id", required_argument, NULL, 'i'},
		{"limit", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		/* the worker's */
		{"once", no_argument, NULL, 'o'},
		{"poll-interval", required_argument, NULL, 'p'},
		{"concurrency", required_argument, NULL, 'c'},
		{"batch-size", required_argument, NULL, 'b'},
		{"max-attempts", required_argument, NULL, 'm'},
		{"retry-backoff", required_argument, NULL, 'r'},
		{"lease", required_argument, NULL, 'l'},
		{"request-timeout", required_argument, NULL, 't'},
		{"http-retries", required_argument, NULL, 'R'},
		{NULL, 0, NULL, 0}
	};
	int			ch;
	int			longindex = -1;

	memset(o, 0, sizeof(*o));
	o->limit = spec->default_limit;
	if (spec->worker)
		worker_defaults(o);
	optind = 0;					/* glibc: start afresh */
	opterr = 0;
	/* GNU getopt permutes: options may follow words; "--" ends them */
	while ((ch = getopt_long(argc, argv, ":d:i:n:c:h", longopts, &longindex)) != -1)
	{
		char		given[64];

		/* how the option was written, for messages ("-n 3" is "-n", not "3") */
		if (longindex >= 0)
			snprintf(given, sizeof(given), "--%s", longopts[longindex].name);
		else if (ch == '?' || ch == ':')
			snprintf(given, sizeof(given), "%s", argv[optind - 1]);
		else
			snprintf(given, sizeof(given), "-%c", ch);
		longindex = -1;
		if (spec->worker && strchr("opcbmrltR", ch) != NULL)
		{
			int			rc = worker_option(ch, optarg, o);

			if (rc >= 0)
				return rc;
			continue;
		}
		switch (ch)
		{
			case 'd':
				o->db_url = optarg;
				continue;
			case 'i':
				if (spec->ids)
				{
					int			id;

					if (!parse_id(optarg, &id))
						return EXIT_USAGE;
					add_id(o, id);
					continue;
				}
				break;
			case 'n':
				if (spec->limit)
				{
					char	   *end;

					o->limit = strtol(optarg, &end, 10);
					if (end == optarg || *end != '\0' || o->limit <= 0 || o->limit > INT_MAX)
					{
						fprintf(stderr, "pgai: invalid limit \"%s\"\n", optarg);
						return EXIT_USAGE;
					}
					continue;
				}
				break;
			case 'j':
				if (spec->json)
				{
					o->json = true;
					continue;
				}
				break;
			case 'h':
				fputs(spec->usage, stdout);
				return 0;
			case '?':

				/*
				 * an unknown option, or a known one this command does not
				 * take
				 */
				break;
			case ':':
				fprintf(stderr, "pgai: option %s needs a value\n", argv[optind - 1]);
				usage_hint(spec);
				return EXIT_USAGE;
			default:
				break;
		}
		fprintf(stderr, "pgai %s: unknown option \"%s\"\n", spec->name, given);
		usage_hint(spec);
		return EXIT_USAGE;
	}
	o->args = argv + optind;
	o->n_args = argc - optind;
	return -1;
}

/* parse_options_once, and nothing left to free when the command stops here. */
int
parse_options(const cmd_spec *spec, int argc, char **argv, worker_options *o)
{
	int			rc = parse_options_once(spec, argc, argv, o);

	for (int i = 0; rc < 0 && spec->word_ids && i < o->n_args; i++)
	{
		int			id;

		if (!parse_id(o->args[i], &id))
		{
			usage_hint(spec);
			rc = 2;
		}
		else
			add_id(o, id);
	}
	if (rc >= 0)
		options_free(o);
	return rc;
}

void
options_free(worker_options *o)
{
	free(o->ids);
	o->ids = NULL;
}

int
options_worker(int argc, char **argv, worker_options *opt)
{
	int			rc = parse_options(&worker_spec, argc, argv, opt);

	if (rc >= 0)
		return rc;
	if (opt->n_args > 0)
	{
		fprintf(stderr, "pgai: unexpected argument \"%s\"\n", opt->args[0]);
		fputs(worker_spec.usage, stderr);
		options_free(opt);
		return 2;
	}
	return -1;
}
