/* SPDX-License-Identifier: MPL-2.0 */
/* dhcpd.leases as ISC dhcpd 4.4 writes it: a bounded, non-recursive parser and a fast writer. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core_assert.h"
#include "dhcp_leasefile.h"

/*
 * Limits. ISC's lexer keeps tokens in a 1500-byte buffer; a quoted string here may be longer
 * raw because of escapes (255 bytes can take 1020 escaped), so 4096 leaves room.
 */
#define LF_STRING_RAW_MAX 4096
#define LF_WORD_MAX	  256
#define LF_DEPTH_MAX	  32		 /* nesting of skipped blocks: on expiry { if ... { } } */
#define LF_STMT_MAX	  (1024 * 1024)	 /* bytes of one top-level statement */
#define LF_TIME_MAX	  253402300799LL /* 9999/12/31 23:59:59 UTC, the last 4-digit-year time */
#define LF_MSG_MAX	  160
#define LF_PROBE_MAX	  (64 * 1024 * 1024) /* bytes re-read looking past a bad statement */

enum lf_kind {
	TK_EOF = 1, /* end of input (or of the statement window in probe mode) */
	TK_WORD,    /* [A-Za-z0-9_-]+ */
	TK_STRING,  /* "..." : p/n cover the raw bytes between the quotes */
	TK_PUNCT,   /* one printable ASCII character */
	TK_BAD,	    /* a byte no lease file holds (NUL, control, non-ASCII), or a token too long */
};

struct lf_tok {
	enum lf_kind kind;
	bool esc; /* TK_STRING: holds a backslash (decode_string must unescape) */
	const char *p;
	size_t n;
	size_t off;
	uint32_t line, col;
};

struct lf {
	const char *buf;
	size_t len;
	size_t end; /* the lexer stops here: len, or the end of the current statement window */
	size_t pos;
	uint32_t line;
	size_t line_start;
	/* First error of the current statement. */
	int err;
	bool err_eof; /* the input ended inside the statement: a torn tail */
	size_t err_off;
	uint32_t err_line, err_col;
	char msg[LF_MSG_MAX];
	/* The last statement was a failover state record: here it is. */
	bool fo_ready;
	struct dhcp_fo_state_rec fo;
};



/* --- lexer --------------------------------------------------------------------------- */

/* Byte classes; a table because the lexer touches every byte of a 200 MB file. */
enum lf_class { C_BAD = 0, C_SPACE, C_NL, C_WORD, C_PUNCT, C_QUOTE, C_HASH };

static const uint8_t lf_class[256] = {
    ['\t'] = C_SPACE,	     ['\v'] = C_SPACE,	      ['\f'] = C_SPACE,
    ['\r'] = C_SPACE,	     [' '] = C_SPACE,	      ['\n'] = C_NL,
    ['!'] = C_PUNCT,	     ['"'] = C_QUOTE,	      ['#'] = C_HASH,
    ['$' ... ','] = C_PUNCT, ['-'] = C_WORD,	      ['.' ... '/'] = C_PUNCT,
    ['0' ... '9'] = C_WORD,  [':' ... '@'] = C_PUNCT, ['A' ... 'Z'] = C_WORD,
    ['[' ... '^'] = C_PUNCT, ['_'] = C_WORD,	      ['`'] = C_PUNCT,
    ['a' ... 'z'] = C_WORD,  ['{' ... '~'] = C_PUNCT,
};

static bool lf_class_is_word(const struct lf *l, size_t i)
{
	return i < l->end && lf_class[(unsigned char)l->buf[i]] == C_WORD;
}

/* Skips blanks, newlines (counting them) and # comments. */
static size_t lex_skip_space(struct lf *l, size_t i)
{
	const char *b = l->buf;

	while (i < l->end) {
		uint8_t c = lf_class[(unsigned char)b[i]];

		if (c == C_SPACE) {
			i++;
		} else if (c == C_NL) {
			l->line++;
			l->line_start = ++i;
		} else if (c == C_HASH) {
			const char *e = memchr(b + i, '\n', l->end - i);

			i = e ? (size_t)(e - b) : l->end;
		} else {
			break;
		}
	}
	return i;
}

/* Bytes that end the fast scan of a string: the quote, escapes, newlines, NUL. */
static const uint8_t lf_str_stop[256] = {[0] = 1, ['"'] = 1, ['\\'] = 1, ['\n'] = 1};

/* Scans a quoted string starting after the opening quote; returns its end or sets BAD/EOF. */
static size_t lex_string(struct lf *l, size_t i, struct lf_tok *t)
{
	size_t start = i,
	       end = l->end - start > LF_STRING_RAW_MAX ? start + LF_STRING_RAW_MAX : l->end;

	t->kind = TK_STRING;
	t->esc = false;
	for (;;) {
		unsigned char c;

		while (i < end && !lf_str_stop[(unsigned char)l->buf[i]])
			i++;
		if (i >= end) {
			/* Out of input, or a string longer than any ISC writes. */
			t->kind = end == l->len ? TK_EOF : TK_BAD;
			return i;
		}
		c = (unsigned char)l->buf[i];
		if (c == '"')
			break;
		if (c == 0) {
			t->kind = TK_BAD;
			return i;
		}
		if (c == '\\') {
			t->esc = true;
			if (i + 1 < end && l->buf[i + 1] != 0 && l->buf[i + 1] != '\n')
				i++;
		} else {
			l->line++;
			l->line_start = i + 1;
		}
		i++;
	}
	t->p = l->buf + start;
	t->n = i - start;
	return i + 1;
}

static void lex(struct lf *l, struct lf_tok *t)
{
	size_t i = l->pos;
	uint8_t c;

	/* ISC puts each statement on its own line, indented by two: skip that without looping. */
	if (l->end - i > 3 && memcmp(l->buf + i, "\n  ", 3) == 0 &&
	    lf_class[(unsigned char)l->buf[i + 3]] == C_WORD) {
		l->line++;
		l->line_start = i + 1;
		i += 3;
	} else {
		i = lex_skip_space(l, i);
	}

	t->off = i;
	t->line = l->line;
	t->col = (uint32_t)(i - l->line_start + 1);
	t->p = l->buf + i;
	t->n = 0;
	if (i >= l->end) {
		t->kind = l->end == l->len ? TK_EOF : TK_BAD;
		l->pos = i;
		return;
	}
	c = lf_class[(unsigned char)l->buf[i]];
	if (c == C_WORD) {
		size_t j = i + 1;

		while (j < l->end && lf_class[(unsigned char)l->buf[j]] == C_WORD)
			j++;
		t->kind = j - i > LF_WORD_MAX ? TK_BAD : TK_WORD;
		t->n = j - i;
		l->pos = j;
	} else if (c == C_QUOTE) {
		l->pos = lex_string(l, i + 1, t);
		if (t->kind == TK_EOF && l->end != l->len)
			t->kind = TK_BAD;
	} else if (c == C_PUNCT) {
		t->kind = TK_PUNCT;
		t->n = 1;
		l->pos = i + 1;
	} else {
		t->kind = TK_BAD;
		l->pos = i;
	}
}

/* The next token without consuming it. */
static void peek(struct lf *l, struct lf_tok *t)
{
	size_t pos = l->pos, line_start = l->line_start;
	uint32_t line = l->line;

	lex(l, t);
	l->pos = pos;
	l->line = line;
	l->line_start = line_start;
}

/* --- errors -------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int fail(struct lf *l, const struct lf_tok *t,
						      const char *fmt, ...)
{
	va_list ap;

	if (l->err)
		return l->err;
	l->err = CORE_EPARSE;
	l->err_off = t->off;
	l->err_line = t->line;
	l->err_col = t->col;
	if (t->kind == TK_EOF) {
		l->err_eof = true;
		snprintf(l->msg, sizeof(l->msg), "end of file inside a statement");
		return l->err;
	}
	if (t->kind == TK_BAD && t->off >= l->end) {
		snprintf(l->msg, sizeof(l->msg), "statement longer than %d bytes", LF_STMT_MAX);
		return l->err;
	}
	if (t->kind == TK_BAD && l->buf[t->off] == '"') {
		snprintf(l->msg, sizeof(l->msg), "string with a NUL byte or longer than %d bytes",
			 LF_STRING_RAW_MAX);
		return l->err;
	}
	if (t->kind == TK_BAD) {
		snprintf(l->msg, sizeof(l->msg), "unreadable byte 0x%02x or word longer than %d",
			 (unsigned char)l->buf[t->off], LF_WORD_MAX);
		return l->err;
	}
	va_start(ap, fmt);
	vsnprintf(l->msg, sizeof(l->msg), fmt, ap);
	va_end(ap);
	return l->err;
}

/* --- token helpers ------------------------------------------------------------------- */

static bool word_is(const struct lf_tok *t, const char *kw)
{
	size_t i;

	if (t->kind != TK_WORD)
		return false;
	for (i = 0; i < t->n; i++) {
		unsigned char c = (unsigned char)t->p[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (kw[i] == 0 || c != (unsigned char)kw[i])
			return false;
	}
	return kw[i] == 0;
}

static bool punct_is(const struct lf_tok *t, char c)
{
	return t->kind == TK_PUNCT && t->p[0] == c;
}

static int expect_punct(struct lf *l, char c)
{
	struct lf_tok t;

	lex(l, &t);
	if (!punct_is(&t, c))
		return fail(l, &t, "expecting '%c'", c);
	return 0;
}

static int expect_word(struct lf *l, const char *kw)
{
	struct lf_tok t;

	lex(l, &t);
	if (!word_is(&t, kw))
		return fail(l, &t, "expecting '%s'", kw);
	return 0;
}

/* Decimal digits only, at most max. */
static int tok_dec(struct lf *l, const struct lf_tok *t, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (t->kind != TK_WORD || t->n > 19)
		return fail(l, t, "expecting a number");
	for (size_t i = 0; i < t->n; i++) {
		unsigned char c = (unsigned char)t->p[i];

		if (c < '0' || c > '9')
			return fail(l, t, "expecting a number");
		v = v * 10 + (c - '0');
		if (v > max)
			return fail(l, t, "number out of range (max %lld)", (long long)max);
	}
	*out = v;
	return 0;
}

static int hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Colon-separated hex octets ("52:54:0:12:34:56"), the first already read as t. ISC takes up
 * to 8 hex digits per element as long as the value fits a byte.
 */
static int parse_hex_list(struct lf *l, struct lf_tok *t, uint8_t *out, size_t max, size_t *n)
{
	size_t k = 0;

	for (;;) {
		unsigned v = 0;

		if (t->kind != TK_WORD || t->n > 8)
			return fail(l, t, "expecting a hex octet");
		for (size_t i = 0; i < t->n; i++) {
			int d = hex_val((unsigned char)t->p[i]);

			if (d < 0)
				return fail(l, t, "expecting a hex octet");
			v = v * 16 + (unsigned)d;
		}
		if (v > 255)
			return fail(l, t, "hex octet out of range");
		if (k == max)
			return fail(l, t, "more than %zu octets", max);
		out[k++] = (uint8_t)v;
		lex(l, t);
		if (!punct_is(t, ':'))
			break;
		lex(l, t);
	}
	*n = k;
	return 0; /* t holds the token after the list */
}

/*
 * Decodes an ISC string token: \t \r \n \b, \ooo (3 octal digits, as ISC writes), \xHH, and
 * \c for any other c. Returns the decoded length or an error.
 */
static int decode_string(struct lf *l, const struct lf_tok *t, uint8_t *out, size_t max, size_t *n)
{
	size_t k = 0;

	if (!t->esc) {
		if (t->n > max)
			return fail(l, t, "string longer than %zu bytes", max);
		memcpy(out, t->p, t->n);
		*n = t->n;
		return 0;
	}
	for (size_t i = 0; i < t->n; i++) {
		unsigned char c = (unsigned char)t->p[i];

		if (c == '\\') {
			if (++i >= t->n)
				return fail(l, t, "bad escape in string");
			c = (unsigned char)t->p[i];
			if (c == 't' || c == 'r' || c == 'n' || c == 'b') {
				c = c == 't' ? '\t' : c == 'r' ? '\r' : c == 'n' ? '\n' : '\b';
			} else if (c >= '0' && c <= '3') {
				if (i + 2 >= t->n || t->p[i + 1] < '0' || t->p[i + 1] > '7' ||
				    t->p[i + 2] < '0' || t->p[i + 2] > '7')
					return fail(l, t, "bad octal escape in string");
				c = (unsigned char)((c - '0') * 64 + (t->p[i + 1] - '0') * 8 +
						    (t->p[i + 2] - '0'));
				i += 2;
			} else if (c == 'x') {
				int h1 = i + 2 < t->n ? hex_val((unsigned char)t->p[i + 1]) : -1;
				int h2 = h1 >= 0 ? hex_val((unsigned char)t->p[i + 2]) : -1;

				if (h2 < 0)
					return fail(l, t, "bad hex escape in string");
				c = (unsigned char)(h1 * 16 + h2);
				i += 2;
			}
		}
		if (k == max)
			return fail(l, t, "string longer than %zu bytes", max);
		out[k++] = c;
	}
	*n = k;
	return 0;
}

/* --- time ---------------------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic, exact for all years). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const uint8_t mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mdays[m - 1] + (m == 2 && leap);
}

/* Validated UTC fields to Unix seconds; -1 when out of range. */
static int64_t civil_to_time(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s)
{
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, (unsigned)mo) || h > 23 || mi > 59 || s > 60)
		return -1;
	return days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
}

#define ISD(c) ((unsigned)((c) - '0') <= 9)

#define D2(p) ((int64_t)((p)[0] - '0') * 10 + ((p)[1] - '0'))

/*
 * Fast path for the exact layout ISC writes, "W YYYY/MM/DD HH:MM:SS;" or "never;": most of a
 * lease file is dates, and lexing one token by token costs five times more. Returns false
 * (consuming nothing) for anything else; the token path then takes it.
 */
static bool fast_date(struct lf *l, int64_t *out)
{
	const char *p = l->buf + l->pos;
	size_t avail = l->end - l->pos;
	int64_t y, mo, d, h, mi, s, t;

	while (avail && *p == ' ') {
		p++;
		avail--;
	}
	if (avail >= 6 && memcmp(p, "never;", 6) == 0) {
		*out = DHCP_TIME_NEVER;
		l->pos = (size_t)(p + 6 - l->buf);
		return true;
	}
	/* "W YYYY/MM/DD HH:MM:SS;": the separators, then the digits. */
	if (avail < 22 || p[21] != ';' || p[1] != ' ' || p[6] != '/' || p[9] != '/' ||
	    p[12] != ' ' || p[15] != ':' || p[18] != ':')
		return false;
	if (!(ISD(p[0]) && ISD(p[2]) && ISD(p[3]) && ISD(p[4]) && ISD(p[5]) && ISD(p[7]) &&
	      ISD(p[8]) && ISD(p[10]) && ISD(p[11]) && ISD(p[13]) && ISD(p[14]) && ISD(p[16]) &&
	      ISD(p[17]) && ISD(p[19]) && ISD(p[20])))
		return false;
	y = D2(p + 2) * 100 + D2(p + 4);
	mo = D2(p + 7);
	d = D2(p + 10);
	h = D2(p + 13);
	mi = D2(p + 16);
	s = D2(p + 19);
	t = civil_to_time(y, mo, d, h, mi, s);
	if (t < 0)
		return false; /* the token path reports it with its column */
	*out = t;
	l->pos = (size_t)(p + 22 - l->buf);
	return true;
}

/* "never" | "epoch" N | W Y/M/D H:M:S [tzoff]; the caller reads the ';'. */
static int parse_date_tokens(struct lf *l, int64_t *out)
{
	struct lf_tok t, f[6];
	int64_t v[6], w, tz = 0;

	lex(l, &t);
	if (word_is(&t, "never")) {
		*out = DHCP_TIME_NEVER;
		return 0;
	}
	if (word_is(&t, "epoch")) {
		lex(l, &t);
		return tok_dec(l, &t, LF_TIME_MAX, out);
	}
	if (tok_dec(l, &t, 9, &w))
		return l->err;
	for (int i = 0; i < 6; i++) {
		static const char sep[6] = {0, '/', '/', 0, ':', ':'};

		if (sep[i] && expect_punct(l, sep[i]))
			return l->err;
		lex(l, &f[i]);
		if (tok_dec(l, &f[i], i == 0 ? 9999 : 99, &v[i]))
			return l->err;
	}
	*out = civil_to_time(v[0], v[1], v[2], v[3], v[4], v[5]);
	if (*out < 0)
		return fail(l, &f[0], "date out of range (years 1970..9999)");
	/* ISC accepts a time-zone offset in seconds after the time; it never writes one. */
	peek(l, &t);
	if (!punct_is(&t, ';')) {
		bool neg;

		lex(l, &t);
		neg = t.kind == TK_WORD && t.n > 1 && t.p[0] == '-';
		if (neg) {
			t.p++;
			t.n--;
		}
		if (tok_dec(l, &t, 86400, &tz))
			return l->err;
		*out += neg ? -tz : tz;
		if (*out < 0 || *out > LF_TIME_MAX)
			return fail(l, &t, "date out of range");
	}
	return 0;
}

static int parse_date(struct lf *l, int64_t *out)
{
	if (fast_date(l, out))
		return 0;
	if (parse_date_tokens(l, out))
		return l->err;
	return expect_punct(l, ';');
}

/* --- statements ---------------------------------------------------------------------- */

/*
 * Skips the rest of a statement we do not keep: up to a ';' outside braces, or through the
 * '}' that closes its first block ("on expiry { ... }" has no ';'). Strings are tokens, so a
 * brace inside quotes does not count.
 */
static int skip_statement(struct lf *l)
{
	struct lf_tok t;
	unsigned depth = 0;

	for (;;) {
		lex(l, &t);
		if (t.kind == TK_EOF || t.kind == TK_BAD)
			return fail(l, &t, "unreadable statement");
		if (punct_is(&t, '{')) {
			if (++depth > LF_DEPTH_MAX)
				return fail(l, &t, "blocks nested deeper than %d", LF_DEPTH_MAX);
		} else if (punct_is(&t, '}')) {
			if (depth == 0)
				return fail(l, &t, "unexpected '}'");
			if (--depth == 0)
				return 0;
		} else if (punct_is(&t, ';') && depth == 0) {
			return 0;
		}
	}
}

/* Fast path for "A.B.C.D" with no blanks or comments inside; false consumes nothing. */
static bool fast_addr(struct lf *l, uint32_t *addr)
{
	size_t i = l->pos;
	uint32_t a = 0;

	while (i < l->end && l->buf[i] == ' ')
		i++;
	for (int k = 0; k < 4; k++) {
		unsigned v = 0, nd = 0;

		if (k) {
			if (i >= l->end || l->buf[i] != '.')
				return false;
			i++;
		}
		while (i < l->end && l->buf[i] >= '0' && l->buf[i] <= '9' && nd < 4) {
			v = v * 10 + (unsigned)(l->buf[i++] - '0');
			nd++;
		}
		if (nd == 0 || nd > 3 || v > 255)
			return false;
		a = a << 8 | v;
	}
	if (lf_class_is_word(l, i) || (i < l->end && l->buf[i] == '.'))
		return false;
	*addr = a;
	l->pos = i;
	return true;
}

static int parse_addr(struct lf *l, uint32_t *addr)
{
	struct lf_tok t;
	uint32_t a = 0;

	if (fast_addr(l, addr))
		return 0;

	for (int i = 0; i < 4; i++) {
		int64_t v = 0;

		if (i && expect_punct(l, '.'))
			return l->err;
		lex(l, &t);
		if (tok_dec(l, &t, 255, &v))
			return fail(l, &t, "expecting an IPv4 address");
		a = a << 8 | (uint32_t)v;
	}
	*addr = a;
	return 0;
}

static int parse_binding_value(struct lf *l, struct dhcp_lease_rec *r, uint8_t *out)
{
	static const char *const extra[] = {"reserved", "bootp"};
	struct lf_tok t;

	if (expect_word(l, "state"))
		return l->err;
	lex(l, &t);
	for (unsigned b = DHCP_BINDING_FREE; b < DHCP_BINDING_MAX; b++) {
		if (word_is(&t, dhcp_binding_name((enum dhcp_binding)b))) {
			*out = (uint8_t)b;
			return expect_punct(l, ';');
		}
	}
	/* Older ISC versions wrote these as states; 4.4 reads them as active plus a flag. */
	for (unsigned i = 0; i < ARRAY_SIZE(extra); i++) {
		if (word_is(&t, extra[i])) {
			*out = DHCP_BINDING_ACTIVE;
			if (i == 0)
				r->reserved = true;
			else
				r->bootp = true;
			return expect_punct(l, ';');
		}
	}
	return fail(l, &t, "expecting a binding state");
}

/* Fast path for " ethernet xx:xx:...:xx;" as ISC writes it; false consumes nothing. */
static bool fast_ethernet(struct lf *l, struct dhcp_lease_rec *r)
{
	const char *p = l->buf + l->pos, *e = l->buf + l->end;
	unsigned n = 0;

	if (e - p < 13 || memcmp(p, " ethernet ", 10) != 0)
		return false;
	p += 10;
	for (;;) {
		int h1, h2;

		if (e - p < 3 || n == DHCP_HW_MAX)
			return false;
		h1 = hex_val((unsigned char)p[0]);
		h2 = hex_val((unsigned char)p[1]);
		if (h1 < 0 || h2 < 0)
			return false;
		r->hw[n++] = (uint8_t)(h1 * 16 + h2);
		p += 3;
		if (p[-1] == ';')
			break;
		if (p[-1] != ':')
			return false;
	}
	r->htype = 1;
	r->hlen = (uint8_t)n;
	l->pos = (size_t)(p - l->buf);
	return true;
}

static int parse_hardware(struct lf *l, struct dhcp_lease_rec *r)
{
	struct lf_tok t;
	size_t n = 0;
	int64_t v = 0;

	if (fast_ethernet(l, r))
		return 0;
	lex(l, &t);
	if (word_is(&t, "ethernet")) {
		r->htype = 1;
	} else if (word_is(&t, "token-ring")) {
		r->htype = 6;
	} else if (word_is(&t, "fddi")) {
		r->htype = 8;
	} else if (word_is(&t, "infiniband")) {
		r->htype = 32;
	} else if (t.kind == TK_WORD && t.n > 8 && memcmp(t.p, "unknown-", 8) == 0) {
		struct lf_tok num = t;

		num.p += 8;
		num.n -= 8;
		if (tok_dec(l, &num, 255, &v))
			return l->err;
		r->htype = (uint8_t)v;
	} else {
		return fail(l, &t, "expecting a hardware type");
	}
	lex(l, &t);
	if (!punct_is(&t, ';') && parse_hex_list(l, &t, r->hw, DHCP_HW_MAX, &n))
		return l->err;
	if (!punct_is(&t, ';'))
		return fail(l, &t, "expecting ';'");
	r->hlen = (uint8_t)n;
	if (n == 0)
		r->htype = 0; /* "hardware ethernet;": a type without an address is no address */
	return 0;
}

static int parse_uid(struct lf *l, struct dhcp_lease_rec *r)
{
	struct lf_tok t;
	size_t n = 0;

	lex(l, &t);
	if (t.kind == TK_STRING) {
		if (decode_string(l, &t, r->uid, DHCP_UID_MAX, &n))
			return l->err;
		lex(l, &t);
	} else if (parse_hex_list(l, &t, r->uid, DHCP_UID_MAX, &n)) {
		return l->err;
	}
	if (!punct_is(&t, ';'))
		return fail(l, &t, "expecting ';'");
	r->uid_len = (uint8_t)n;
	return 0;
}

/* A quoted string, or (ISC accepts it) an unquoted host name: words joined by dots. */
static int parse_hostname(struct lf *l, struct dhcp_lease_rec *r)
{
	struct lf_tok t;
	size_t n = 0;

	lex(l, &t);
	if (t.kind == TK_STRING) {
		if (decode_string(l, &t, (uint8_t *)r->hostname, DHCP_HOSTNAME_MAX, &n))
			return l->err;
		lex(l, &t);
	} else {
		while (t.kind == TK_WORD) {
			if (n + t.n + 1 > DHCP_HOSTNAME_MAX)
				return fail(l, &t, "host name too long");
			memcpy(r->hostname + n, t.p, t.n);
			n += t.n;
			lex(l, &t);
			if (!punct_is(&t, '.'))
				break;
			r->hostname[n++] = '.';
			lex(l, &t);
		}
		if (n == 0)
			return fail(l, &t, "expecting a host name");
	}
	if (!punct_is(&t, ';'))
		return fail(l, &t, "expecting ';'");
	/* ISC keeps the name as a C string: it ends at the first NUL. */
	r->hostname[n] = 0;
	r->hostname_len = (uint8_t)strlen(r->hostname);
	return 0;
}

enum lf_seen { SEEN_NEXT = 1, SEEN_REWIND = 2 };

enum lf_kw {
	KW_NONE = 0,
	KW_STARTS,
	KW_ENDS,
	KW_TSTP,
	KW_TSFP,
	KW_ATSFP,
	KW_CLTT, /* in record order */
	KW_BINDING,
	KW_NEXT,
	KW_REWIND,
	KW_HARDWARE,
	KW_UID,
	KW_CLIENT_HOSTNAME,
	KW_DYNAMIC_BOOTP,
	KW_RESERVED,
	KW_ABANDONED, /* the pre-3.0 form of "binding state abandoned;" */
	KW_TIMESTAMP, /* read and ignored by ISC */
	KW_SKIP,      /* read by ISC, not kept by us: set, option agent.*, on, billing, ... */
};

/* The keyword in t, as ISC writes it (lower case, compared inline) or in any case. */
#define KW_IS(t, lit)                                                                              \
	((t)->n == sizeof(lit) - 1 &&                                                              \
	 (memcmp((t)->p, (lit), sizeof(lit) - 1) == 0 || word_is((t), (lit))))

/* Keyword lookup by first letter: this runs for every statement of a million leases. */
static enum lf_kw lease_kw(const struct lf_tok *t)
{
	switch (t->p[0] | 0x20) {
	case 'a':
		return KW_IS(t, "atsfp")       ? KW_ATSFP
		       : KW_IS(t, "abandoned") ? KW_ABANDONED
					       : KW_NONE;
	case 'b':
		return KW_IS(t, "binding") ? KW_BINDING : KW_IS(t, "billing") ? KW_SKIP : KW_NONE;
	case 'c':
		if (KW_IS(t, "cltt"))
			return KW_CLTT;
		if (KW_IS(t, "client-hostname"))
			return KW_CLIENT_HOSTNAME;
		return KW_IS(t, "class") ? KW_SKIP : KW_NONE;
	case 'd':
		if (KW_IS(t, "dynamic-bootp"))
			return KW_DYNAMIC_BOOTP;
		return KW_IS(t, "ddns-fwd-name") || KW_IS(t, "ddns-rev-name") ? KW_SKIP : KW_NONE;
	case 'e':
		return KW_IS(t, "ends") ? KW_ENDS : KW_NONE;
	case 'h':
		return KW_IS(t, "hardware") ? KW_HARDWARE : KW_NONE;
	case 'n':
		return KW_IS(t, "next") ? KW_NEXT : KW_NONE;
	case 'o':
		return KW_IS(t, "option") || KW_IS(t, "on") ? KW_SKIP : KW_NONE;
	case 'r':
		return KW_IS(t, "rewind")     ? KW_REWIND
		       : KW_IS(t, "reserved") ? KW_RESERVED
					      : KW_NONE;
	case 's':
		if (KW_IS(t, "starts"))
			return KW_STARTS;
		return KW_IS(t, "set") || KW_IS(t, "supersede") ? KW_SKIP : KW_NONE;
	case 't':
		if (KW_IS(t, "tstp"))
			return KW_TSTP;
		if (KW_IS(t, "tsfp"))
			return KW_TSFP;
		return KW_IS(t, "timestamp") ? KW_TIMESTAMP : KW_NONE;
	case 'u':
		return KW_IS(t, "uid") ? KW_UID : KW_NONE;
	default:
		return KW_NONE;
	}
}

/*
 * Fast path for "binding state NAME;" exactly as ISC writes it (after "binding"). Returns
 * false, consuming nothing, for any other spelling.
 */
static bool fast_binding(struct lf *l, uint8_t *out)
{
	const char *p = l->buf + l->pos;
	size_t avail = l->end - l->pos;

	if (avail < 8 || memcmp(p, " state ", 7) != 0)
		return false;
	p += 7;
	avail -= 7;
	static const uint8_t name_len[DHCP_BINDING_MAX] = {0, 4, 6, 7, 8, 9, 5, 6};

	for (unsigned b = DHCP_BINDING_FREE; b < DHCP_BINDING_MAX; b++) {
		const char *name = dhcp_binding_name((enum dhcp_binding)b);
		size_t n = name_len[b];

		if (avail > n && memcmp(p, name, n) == 0 && p[n] == ';') {
			*out = (uint8_t)b;
			l->pos = (size_t)(p + n + 1 - l->buf);
			return true;
		}
	}
	return false;
}

static int parse_binding_stmt(struct lf *l, enum lf_kw kw, struct dhcp_lease_rec *r, unsigned *seen)
{
	uint8_t *out = kw == KW_BINDING ? &r->binding
		       : kw == KW_NEXT	? &r->next_binding
					: &r->rewind_binding;

	*seen |= kw == KW_NEXT ? SEEN_NEXT : kw == KW_REWIND ? SEEN_REWIND : 0;
	if (kw != KW_BINDING) {
		if (l->end - l->pos > 8 && memcmp(l->buf + l->pos, " binding", 8) == 0 &&
		    !lf_class_is_word(l, l->pos + 8))
			l->pos += 8;
		else if (expect_word(l, "binding"))
			return l->err;
	}
	if (fast_binding(l, out))
		return 0;
	return parse_binding_value(l, r, out);
}

/* One statement inside "lease A { ... }", its keyword in t. */
static int parse_lease_stmt(struct lf *l, const struct lf_tok *t, struct dhcp_lease_rec *r,
			    unsigned *seen)
{
	int64_t *times[] = {&r->starts, &r->ends, &r->tstp, &r->tsfp, &r->atsfp, &r->cltt};
	enum lf_kw kw = lease_kw(t);
	int64_t ignored;

	switch (kw) {
	case KW_STARTS:
	case KW_ENDS:
	case KW_TSTP:
	case KW_TSFP:
	case KW_ATSFP:
	case KW_CLTT: {
		int64_t *t = times[kw - KW_STARTS];

		if (parse_date(l, t))
			return l->err;
		/* ISC's 0 is "not set" (it never writes one): the same as absent here. */
		if (*t == 0)
			*t = DHCP_TIME_NONE;
		return 0;
	}
	case KW_BINDING:
	case KW_NEXT:
	case KW_REWIND:
		return parse_binding_stmt(l, kw, r, seen);
	case KW_HARDWARE:
		return parse_hardware(l, r);
	case KW_UID:
		return parse_uid(l, r);
	case KW_CLIENT_HOSTNAME:
		return parse_hostname(l, r);
	case KW_DYNAMIC_BOOTP:
		r->bootp = true;
		return expect_punct(l, ';');
	case KW_RESERVED:
		r->reserved = true;
		return expect_punct(l, ';');
	case KW_ABANDONED:
		r->binding = r->next_binding = DHCP_BINDING_ABANDONED;
		*seen |= SEEN_NEXT;
		return expect_punct(l, ';');
	case KW_TIMESTAMP:
		return parse_date(l, &ignored);
	case KW_SKIP:
		return skip_statement(l);
	case KW_NONE:
		break;
	}
	return fail(l, t, "unknown lease statement '%.*s'", (int)(t->n > 40 ? 40 : t->n), t->p);
}

static int parse_lease(struct lf *l, struct dhcp_lease_rec *r)
{
	struct lf_tok t;
	unsigned seen = 0;

	dhcp_lease_rec_init(r);
	if (parse_addr(l, &r->addr) || expect_punct(l, '{'))
		return l->err;
	for (;;) {
		lex(l, &t);
		if (punct_is(&t, '}'))
			break;
		if (t.kind != TK_WORD)
			return fail(l, &t, "expecting a lease statement or '}'");
		if (parse_lease_stmt(l, &t, r, &seen))
			return l->err;
	}
	/* ISC: the next and rewind states default to the binding state. */
	if (r->binding != DHCP_BINDING_NONE) {
		if (!(seen & SEEN_NEXT))
			r->next_binding = r->binding;
		if (!(seen & SEEN_REWIND))
			r->rewind_binding = r->binding;
	}
	return 0;
}

static const struct {
	const char *name;
	uint8_t code; /* the failover protocol's server-state code */
} fo_states[] = {
    {"unknown-state", 0},  {"startup", 1},	  {"normal", 2},
    {"communications-interrupted", 3},	  {"partner-down", 4},
    {"potential-conflict", 5},		  {"recover", 6},
    {"paused", 7},	   {"shutdown", 8},	  {"recover-done", 9},
    {"resolution-interrupted", 10},	  {"conflict-done", 11},
    {"recover-wait", 254},
};

/* The code of a state name, or -1. */
static int failover_state_code(const struct lf_tok *t)
{
	for (unsigned i = 0; i < ARRAY_SIZE(fo_states); i++)
		if (word_is(t, fo_states[i].name))
			return fo_states[i].code;
	return -1;
}

static const char *failover_state_word(uint8_t code)
{
	for (unsigned i = 0; i < ARRAY_SIZE(fo_states); i++)
		if (fo_states[i].code == code)
			return fo_states[i].name;
	return "unknown-state";
}

/* "my|partner state S [at DATE];" with my/partner already read. */
static int parse_failover_side(struct lf *l, uint8_t *state, int64_t *stos)
{
	struct lf_tok t;
	int code;

	if (expect_word(l, "state"))
		return l->err;
	lex(l, &t);
	code = failover_state_code(&t);
	if (code < 0)
		return fail(l, &t, "unknown failover state");
	*state = (uint8_t)code;
	lex(l, &t);
	if (punct_is(&t, ';'))
		return 0;
	if (!word_is(&t, "at"))
		return fail(l, &t, "expecting 'at' or ';'");
	return parse_date(l, stos);
}

/* failover peer "NAME" state { my state S at DATE; partner state S at DATE; mclt N; } */
static int parse_failover(struct lf *l)
{
	struct dhcp_fo_state_rec *fs = &l->fo;
	struct lf_tok t;
	size_t n = 0;

	*fs = (struct dhcp_fo_state_rec){
	    .my_stos = DHCP_TIME_NONE, .partner_stos = DHCP_TIME_NONE, .mclt = -1};
	if (expect_word(l, "peer"))
		return l->err;
	lex(l, &t);
	if (t.kind == TK_STRING) {
		if (decode_string(l, &t, (uint8_t *)fs->peer, sizeof(fs->peer) - 1, &n))
			return l->err;
	} else if (t.kind == TK_WORD && t.n < sizeof(fs->peer)) {
		n = t.n;
		memcpy(fs->peer, t.p, n);
	} else {
		return fail(l, &t, "expecting a failover peer name");
	}
	if (memchr(fs->peer, 0, n))
		return fail(l, &t, "NUL byte in a failover peer name");
	fs->peer[n] = 0;
	if (expect_word(l, "state") || expect_punct(l, '{'))
		return l->err;
	for (;;) {
		lex(l, &t);
		if (punct_is(&t, '}'))
			break;
		if (word_is(&t, "my")) {
			if (parse_failover_side(l, &fs->my_state, &fs->my_stos))
				return l->err;
		} else if (word_is(&t, "partner") || word_is(&t, "peer")) {
			if (parse_failover_side(l, &fs->partner_state, &fs->partner_stos))
				return l->err;
		} else if (word_is(&t, "mclt")) {
			lex(l, &t);
			if (tok_dec(l, &t, UINT32_MAX, &fs->mclt) || expect_punct(l, ';'))
				return l->err;
		} else {
			return fail(l, &t, "expecting my state, partner state or mclt");
		}
	}
	l->fo_ready = true;
	return 0;
}

/* One top-level statement; a lease is parsed into *r and *is_lease set. */
static int parse_top(struct lf *l, const struct lf_tok *t, struct dhcp_lease_rec *r, bool *is_lease)
{
	static const char *const skipped[] = {"host", "group", "class", "subclass", "server-duid"};

	*is_lease = false;
	if (KW_IS(t, "lease")) {
		*is_lease = true;
		return parse_lease(l, r);
	}
	if (word_is(t, "authoring-byte-order")) {
		struct lf_tok v;

		lex(l, &v);
		if (!word_is(&v, "little-endian") && !word_is(&v, "big-endian"))
			return fail(l, &v, "expecting little-endian or big-endian");
		return expect_punct(l, ';');
	}
	if (word_is(t, "failover"))
		return parse_failover(l);
	for (unsigned i = 0; i < ARRAY_SIZE(skipped); i++)
		if (word_is(t, skipped[i]))
			return skip_statement(l);
	if (word_is(t, "ia-na") || word_is(t, "ia-ta") || word_is(t, "ia-pd") ||
	    word_is(t, "ia_na") || word_is(t, "ia_ta") || word_is(t, "ia_pd") ||
	    word_is(t, "lease6")) {
		fail(l, t,
		     "DHCPv6 lease (%.*s) in a DHCPv4 lease file: a DHCPv6 server needs its "
		     "own lease file (-lf)",
		     (int)t->n, t->p);
		l->err = CORE_EUNSUPP;
		return l->err;
	}
	if (t->kind != TK_WORD)
		return fail(l, t, "expecting a lease declaration");
	return fail(l, t, "unknown statement '%.*s'", (int)(t->n > 40 ? 40 : t->n), t->p);
}

/* --- driver -------------------------------------------------------------------------- */

/* Parses the top-level statement at l->pos within a window of LF_STMT_MAX bytes. */
static int parse_one(struct lf *l, struct dhcp_lease_rec *r, bool *is_lease, bool *at_eof)
{
	struct lf_tok t;

	l->err = 0;
	l->err_eof = false;
	l->end = l->len - l->pos > LF_STMT_MAX ? l->pos + LF_STMT_MAX : l->len;
	lex(l, &t);
	*at_eof = t.kind == TK_EOF;
	if (*at_eof)
		return 0;
	return parse_top(l, &t, r, is_lease);
}

/*
 * After a bad statement: is there a complete good statement later in the file? Only lines
 * that start with a letter are tried (ISC writes every top-level statement at column 1);
 * each try is bounded by the statement window, and all tries together by LF_PROBE_MAX bytes.
 * Past that budget the answer is yes: a tail that large is not a torn append, and refusing
 * the file is safer than cutting it.
 */
static bool later_good_statement(const char *buf, size_t len, size_t from)
{
	struct dhcp_lease_rec r;
	size_t budget = LF_PROBE_MAX;

	while (from < len) {
		const char *nl = memchr(buf + from, '\n', len - from);
		struct lf p = {.buf = buf, .len = len, .line = 1};
		bool is_lease, at_eof;
		unsigned char c;

		if (!nl)
			return false;
		from = (size_t)(nl - buf) + 1;
		if (from >= len)
			return false;
		c = (unsigned char)buf[from];
		if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
			continue;
		p.pos = p.line_start = from;
		if (parse_one(&p, &r, &is_lease, &at_eof) == 0 && !at_eof)
			return true;
		if (p.pos - from >= budget)
			return true;
		budget -= p.pos - from;
	}
	return false;
}

/* The end of a complete statement, with the rest of its line when that is only blanks. */
static size_t statement_end(const struct lf *l)
{
	size_t i = l->pos;

	while (i < l->len && (l->buf[i] == ' ' || l->buf[i] == '\t' || l->buf[i] == '\r'))
		i++;
	if (i < l->len && l->buf[i] == '\n')
		return i + 1;
	return l->pos;
}

static void report(const struct lf *l, const char *name, const char *what, char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "%s:%u:%u: %s%s", name ? name : "-", l->err_line, l->err_col,
			 what, l->msg);
}

int dhcp_leasefile_parse(const char *buf, size_t len, const char *name, dhcp_leasefile_cb cb,
			 void *ctx, struct dhcp_leasefile_stats *st, char *err, size_t errlen)
{
	return dhcp_leasefile_parse_fo(buf, len, name, cb, NULL, ctx, st, err, errlen);
}

int dhcp_leasefile_parse_fo(const char *buf, size_t len, const char *name, dhcp_leasefile_cb cb,
			    dhcp_leasefile_fo_cb fo_cb, void *ctx, struct dhcp_leasefile_stats *st,
			    char *err, size_t errlen)
{
	struct lf l = {.buf = buf, .len = len, .line = 1};
	struct dhcp_leasefile_stats dummy;
	struct dhcp_lease_rec r;
	size_t good_end = 0, good_lines = 0;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	if (err && errlen)
		err[0] = 0;
	for (;;) {
		bool is_lease = false, at_eof;
		int rc;

		l.fo_ready = false;
		rc = parse_one(&l, &r, &is_lease, &at_eof);

		if (rc == 0 && at_eof)
			break;
		if (rc == CORE_EUNSUPP ||
		    (rc && !l.err_eof && later_good_statement(buf, len, l.err_off))) {
			report(&l, name, "", err, errlen);
			st->lines = l.err_line;
			st->valid_bytes = good_end;
			return rc;
		}
		if (rc) {
			/* Cut or garbled at the end: power loss mid-append. Keep the prefix. */
			report(&l, name, "torn tail dropped: ", err, errlen);
			st->tail_torn = true;
			st->valid_bytes = good_end;
			st->lines = good_lines;
			return 0;
		}
		good_end = statement_end(&l);
		good_lines = l.line;
		if (is_lease) {
			if (cb) {
				rc = cb(ctx, &r);
				if (rc < 0)
					return rc;
			}
			st->leases++;
		}
		if (l.fo_ready && fo_cb) {
			rc = fo_cb(ctx, &l.fo);
			if (rc < 0)
				return rc;
		}
	}
	st->valid_bytes = len;
	st->lines = l.line - (len > 0 && buf[len - 1] == '\n');
	return 0;
}

/* --- writer -------------------------------------------------------------------------- */

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
				     "25262728293031323334353637383940414243444546474849"
				     "50515253545556575859606162636465666768697071727374"
				     "75767778798081828384858687888990919293949596979899";

static char *put2(char *o, unsigned v)
{
	memcpy(o, digit_pairs + 2 * v, 2);
	return o + 2;
}

static char *put_str(char *o, const char *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}

#define PUT_LIT(o, s) put_str((o), (s), sizeof(s) - 1)

static char *put_dec(char *o, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*o++ = tmp[--n];
	return o;
}


/* "W YYYY/MM/DD HH:MM:SS;" (strftime "%w %Y/%m/%d %H:%M:%S;" in UTC) or "never;". */
static char *put_time(char *o, int64_t t)
{
	int64_t days, y;
	unsigned m, d, sod;

	if (t > LF_TIME_MAX)
		return PUT_LIT(o, "never;");
	if (t < 0)
		t = 0;
	days = t / 86400;
	sod = (unsigned)(t % 86400);
	civil_from_days(days, &y, &m, &d);
	*o++ = (char)('0' + (days + 4) % 7); /* 1970-01-01 was a Thursday */
	*o++ = ' ';
	o = put2(o, (unsigned)(y / 100));
	o = put2(o, (unsigned)(y % 100));
	*o++ = '/';
	o = put2(o, m);
	*o++ = '/';
	o = put2(o, d);
	*o++ = ' ';
	o = put2(o, sod / 3600);
	*o++ = ':';
	o = put2(o, sod / 60 % 60);
	*o++ = ':';
	o = put2(o, sod % 60);
	*o++ = ';';
	return o;
}

/* "epoch N; # Www Mmm DD HH:MM:SS YYYY" in local time (db-time-format local), or "never;". */
static char *put_time_local(char *o, int64_t t)
{
	time_t tt;
	struct tm tm;
	size_t n;

	if (t > LF_TIME_MAX)
		return PUT_LIT(o, "never;");
	if (t < 0)
		t = 0;
	o = put_dec(PUT_LIT(o, "epoch "), (uint64_t)t);
	o = PUT_LIT(o, "; # ");
	tt = (time_t)t;
	/* Exactly 24 bytes for years 1970..9999; without a local time the comment stays empty. */
	n = localtime_r(&tt, &tm) ? strftime(o, 25, "%a %b %d %H:%M:%S %Y", &tm) : 0;
	return o + n;
}

/* ISC's quotify_buf: printable ASCII as is, '"' and '\' escaped, the rest as \ooo. */
static char *put_quoted(char *o, const uint8_t *s, size_t n)
{
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c < 0x20 || c > 0x7e) {
			*o++ = '\\';
			*o++ = (char)('0' + (c >> 6));
			*o++ = (char)('0' + ((c >> 3) & 7));
			*o++ = (char)('0' + (c & 7));
		} else {
			if (c == '"' || c == '\\')
				*o++ = '\\';
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	return o;
}

static const char hexdig[] = "0123456789abcdef";

/* "xx:xx:..." as ISC's print_hex writes hardware addresses (and uids in lease-id-format hex). */
static char *put_hex(char *o, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ':';
		*o++ = hexdig[b[i] >> 4];
		*o++ = hexdig[b[i] & 15];
	}
	return o;
}

static char *put_hw(char *o, const struct dhcp_lease_rec *r)
{
	o = PUT_LIT(o, "\n  hardware ");
	switch (r->htype) {
	case 1:
		o = PUT_LIT(o, "ethernet");
		break;
	case 6:
		o = PUT_LIT(o, "token-ring");
		break;
	case 8:
		o = PUT_LIT(o, "fddi");
		break;
	case 32:
		o = PUT_LIT(o, "infiniband");
		break;
	default:
		o = put_dec(PUT_LIT(o, "unknown-"), r->htype);
		break;
	}
	*o++ = ' ';
	o = put_hex(o, r->hw, r->hlen < DHCP_HW_MAX ? r->hlen : DHCP_HW_MAX);
	*o++ = ';';
	return o;
}

static char *put_binding(char *o, const char *label, size_t label_len, uint8_t b)
{
	const char *s = dhcp_binding_name((enum dhcp_binding)b);

	o = put_str(o, label, label_len);
	o = put_str(o, s, strlen(s));
	*o++ = ';';
	return o;
}

static bool binding_valid(uint8_t b)
{
	return b > DHCP_BINDING_NONE && b < DHCP_BINDING_MAX;
}

/* As ISC: a time that is absent, or 0 (a lease never used), is not written. */
#define PUT_TIME(o, label, t)                                                                      \
	do {                                                                                       \
		if ((t) != DHCP_TIME_NONE && (t) != 0)                                             \
			o = local ? put_time_local(PUT_LIT(o, label), (t))                         \
				  : put_time(PUT_LIT(o, label), (t));                              \
	} while (0)

/* Writes the record into o, which has room for DHCP_LEASEFILE_REC_MAX bytes. */
static char *format_rec(const struct dhcp_lease_rec *r, unsigned style, char *o)
{
	bool local = style & DHCP_LF_LOCAL_TIME;
	static const char ls[] = "\n  binding state ", ln[] = "\n  next binding state ",
			  lr[] = "\n  rewind binding state ";
	size_t hn;

	o = PUT_LIT(o, "lease ");
	for (int i = 3; i >= 0; i--) {
		o = put_dec(o, (r->addr >> (8 * i)) & 0xff);
		*o++ = i ? '.' : ' ';
	}
	*o++ = '{';
	PUT_TIME(o, "\n  starts ", r->starts);
	PUT_TIME(o, "\n  ends ", r->ends);
	PUT_TIME(o, "\n  tstp ", r->tstp);
	PUT_TIME(o, "\n  tsfp ", r->tsfp);
	PUT_TIME(o, "\n  atsfp ", r->atsfp);
	PUT_TIME(o, "\n  cltt ", r->cltt);
	if (binding_valid(r->binding))
		o = put_binding(o, ls, sizeof(ls) - 1, r->binding);
	/* ISC leaves out next/rewind when they equal the binding state; readers default them. */
	if (binding_valid(r->next_binding) && r->next_binding != r->binding)
		o = put_binding(o, ln, sizeof(ln) - 1, r->next_binding);
	if (binding_valid(r->rewind_binding) && r->rewind_binding != r->binding)
		o = put_binding(o, lr, sizeof(lr) - 1, r->rewind_binding);
	if (r->reserved)
		o = PUT_LIT(o, "\n  reserved;");
	if (r->bootp)
		o = PUT_LIT(o, "\n  dynamic-bootp;");
	if (r->hlen)
		o = put_hw(o, r);
	if (r->uid_len) {
		o = PUT_LIT(o, "\n  uid ");
		o = style & DHCP_LF_HEX_IDS ? put_hex(o, r->uid, r->uid_len)
					    : put_quoted(o, r->uid, r->uid_len);
		*o++ = ';';
	}
	hn = strnlen(r->hostname,
		     r->hostname_len < DHCP_HOSTNAME_MAX ? r->hostname_len : DHCP_HOSTNAME_MAX);
	if (hn) {
		o = put_quoted(PUT_LIT(o, "\n  client-hostname "), (const uint8_t *)r->hostname,
			       hn);
		*o++ = ';';
	}
	return PUT_LIT(o, "\n}\n");
}

/* snprintf's contract for a record of n bytes formatted in tmp: at most cap bytes, NUL
 * included, go to buf; the length it needs is returned. */
static size_t copy_out(const char *tmp, size_t n, char *buf, size_t cap)
{
	ASSERT(n <= DHCP_LEASEFILE_REC_MAX);
	if (cap) {
		size_t k = n < cap - 1 ? n : cap - 1;

		memcpy(buf, tmp, k);
		buf[k] = 0;
	}
	return n;
}

size_t dhcp_leasefile_format(const struct dhcp_lease_rec *r, char *buf, size_t cap)
{
	return dhcp_leasefile_format_style(r, 0, buf, cap);
}

size_t dhcp_leasefile_format_style(const struct dhcp_lease_rec *r, unsigned style, char *buf,
				   size_t cap)
{
	char tmp[DHCP_LEASEFILE_REC_MAX + 1];
	size_t n;

	/* The common case writes straight into the caller's buffer. */
	if (cap > DHCP_LEASEFILE_REC_MAX) {
		n = (size_t)(format_rec(r, style, buf) - buf);
		ASSERT(n <= DHCP_LEASEFILE_REC_MAX);
		buf[n] = 0;
		return n;
	}
	n = (size_t)(format_rec(r, style, tmp) - tmp);
	return copy_out(tmp, n, buf, cap);
}

/* "\n  LABEL S at DATE;" or "\n  LABEL S;" without a time. */
static char *put_fo_side(char *o, const char *label, uint8_t state, int64_t stos, unsigned style)
{
	const char *w = failover_state_word(state);

	o = put_str(o, label, strlen(label));
	o = put_str(o, w, strlen(w));
	if (stos == DHCP_TIME_NONE) {
		*o++ = ';';
		return o;
	}
	o = PUT_LIT(o, " at ");
	return style & DHCP_LF_LOCAL_TIME ? put_time_local(o, stos) : put_time(o, stos);
}

static char *format_fo(const struct dhcp_fo_state_rec *r, unsigned style, char *o)
{
	o = PUT_LIT(o, "failover peer ");
	o = put_quoted(o, (const uint8_t *)r->peer, strnlen(r->peer, sizeof(r->peer) - 1));
	o = PUT_LIT(o, " state {");
	o = put_fo_side(o, "\n  my state ", r->my_state, r->my_stos, style);
	o = put_fo_side(o, "\n  partner state ", r->partner_state, r->partner_stos, style);
	if (r->mclt >= 0) {
		o = put_dec(PUT_LIT(o, "\n  mclt "), (uint64_t)r->mclt);
		*o++ = ';';
	}
	return PUT_LIT(o, "\n}\n");
}

size_t dhcp_leasefile_format_fo(const struct dhcp_fo_state_rec *r, unsigned style, char *buf,
				size_t cap)
{
	char tmp[DHCP_LEASEFILE_REC_MAX + 1];
	size_t n = (size_t)(format_fo(r, style, tmp) - tmp);

	return copy_out(tmp, n, buf, cap);
}

size_t dhcp_leasefile_header(char *buf, size_t cap)
{
	const char *order =
	    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? "little-endian" : "big-endian";
	int n = snprintf(buf, cap,
			 "# The format of this file is documented in the dhcpd.leases(5) manual "
			 "page.\n# This lease file was written by paceless-dhcpd-%s\n\n"
			 "# authoring-byte-order entry is generated, DO NOT DELETE\n"
			 "authoring-byte-order %s;\n\n",
			 PACELESS_VERSION, order);

	ASSERT(n > 0 && n <= DHCP_LEASEFILE_HEADER_MAX);
	return (size_t)n;
}
