/* SPDX-License-Identifier: MPL-2.0 */
/* dhcpd.conf tokens: words, quoted strings with ISC's escapes, punctuation; include stack. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core_assert.h"
#include "dhcp_conf_int.h"

int conf_fail(struct conf_parser *p, const struct conf_pos *pos, int code, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	/* Only the first error is reported: later ones are consequences of it. */
	if (p->failed)
		return code;
	p->failed = true;
	if (!p->err || !p->errlen)
		return code;
	if (pos && pos->file)
		n = snprintf(p->err, p->errlen, "%s:%u:%u: ", pos->file, (unsigned)pos->line,
			     (unsigned)pos->col);
	if (n < 0 || (size_t)n >= p->errlen)
		return code;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}

int conf_src_push(struct conf_parser *p, const char *name, const char *text, size_t len,
		  char *owned)
{
	struct conf_src *s;

	if (p->src_n > CONF_INCLUDE_DEPTH_MAX) {
		free(owned);
		return conf_fail(p, &p->tok.pos, CORE_ETOOBIG, "includes nested deeper than %d",
				 CONF_INCLUDE_DEPTH_MAX);
	}
	s = &p->src[p->src_n];
	memset(s, 0, sizeof(*s));
	s->name = core_arena_strdup(&p->c->arena, name);
	if (!s->name) {
		free(owned);
		return conf_fail(p, NULL, -ENOMEM, "out of memory");
	}
	s->text = text;
	s->len = len;
	s->line = 1;
	s->col = 1;
	s->owned = owned;
	s->block_depth = p->depth;
	p->src_n++;
	return 0;
}

void conf_src_pop_all(struct conf_parser *p)
{
	while (p->src_n > 0) {
		p->src_n--;
		free(p->src[p->src_n].owned);
		p->src[p->src_n].owned = NULL;
	}
}

static int src_getc(struct conf_src *s)
{
	int ch;

	if (s->pos >= s->len)
		return EOF;
	ch = (unsigned char)s->text[s->pos++];
	if (ch == '\n') {
		s->line++;
		s->col = 1;
	} else {
		s->col++;
	}
	return ch;
}

static int src_peekc(const struct conf_src *s)
{
	return s->pos < s->len ? (unsigned char)s->text[s->pos] : EOF;
}

static bool is_word_char(int ch)
{
	return ch != EOF && (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == ':');
}

/* Skips blanks and "#" comments. */
static void skip_space(struct conf_src *s)
{
	for (;;) {
		int ch = src_peekc(s);

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' ||
		    ch == '\v') {
			src_getc(s);
		} else if (ch == '#') {
			while (ch != EOF && ch != '\n')
				ch = src_getc(s);
		} else {
			return;
		}
	}
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* One escape after a backslash, as ISC reads them: \t \r \n \b, octal \NNN, hex \xHH. */
static int read_escape(struct conf_src *s)
{
	int ch = src_getc(s), v, d, i;

	switch (ch) {
	case 't':
		return '\t';
	case 'r':
		return '\r';
	case 'n':
		return '\n';
	case 'b':
		return '\b';
	case 'x':
		for (v = 0, i = 0; i < 2 && (d = hexval(src_peekc(s))) >= 0; i++) {
			v = v * 16 + d;
			src_getc(s);
		}
		return i ? v : 'x';
	default:
		break;
	}
	if (ch >= '0' && ch <= '7') {
		v = ch - '0';
		for (i = 1; i < 3 && src_peekc(s) >= '0' && src_peekc(s) <= '7'; i++)
			v = v * 8 + (src_getc(s) - '0');
		return v & 0xff;
	}
	return ch; /* \" \\ and any other character stand for themselves; EOF is checked */
}

static int lex_string(struct conf_parser *p, struct conf_src *s, struct conf_tok *t)
{
	for (;;) {
		int ch = src_getc(s);

		if (ch == EOF)
			return conf_fail(p, &t->pos, CORE_EPARSE, "unterminated quoted string");
		if (ch == '"')
			break;
		if (ch == '\\') {
			if (src_peekc(s) == EOF)
				return conf_fail(p, &t->pos, CORE_EPARSE,
						 "unterminated quoted string");
			ch = read_escape(s);
		}
		if (t->len >= CONF_TOKEN_MAX)
			return conf_fail(p, &t->pos, CORE_ETOOBIG,
					 "quoted string longer than %d bytes", CONF_TOKEN_MAX);
		t->text[t->len++] = (char)ch;
	}
	t->text[t->len] = '\0';
	t->type = CT_STRING;
	return 0;
}

static int lex_word(struct conf_parser *p, struct conf_src *s, struct conf_tok *t)
{
	while (is_word_char(src_peekc(s))) {
		if (t->len >= CONF_TOKEN_MAX)
			return conf_fail(p, &t->pos, CORE_ETOOBIG, "word longer than %d bytes",
					 CONF_TOKEN_MAX);
		t->text[t->len++] = (char)src_getc(s);
	}
	t->text[t->len] = '\0';
	t->type = CT_WORD;
	return 0;
}

/* Reads one token from the innermost source, leaving an included file at its end. */
static int lex(struct conf_parser *p, struct conf_tok *t)
{
	struct conf_src *s;
	int ch;

	for (;;) {
		s = &p->src[p->src_n - 1];
		skip_space(s);
		t->len = 0;
		t->text[0] = '\0';
		t->pos.file = s->name;
		t->pos.line = s->line;
		t->pos.col = s->col;
		ch = src_peekc(s);
		if (ch != EOF || p->src_n == 1)
			break;
		/* An included file must close every block it opens. */
		if (s->block_depth != p->depth)
			return conf_fail(p, &t->pos, CORE_EPARSE,
					 "end of included file inside a block: expected '}'");
		p->src_n--;
		free(s->owned);
		s->owned = NULL;
	}
	if (ch == EOF) {
		t->type = CT_EOF;
		return 0;
	}
	if (ch == '"') {
		src_getc(s);
		return lex_string(p, s, t);
	}
	if (is_word_char(ch))
		return lex_word(p, s, t);
	src_getc(s);
	if (!isprint(ch))
		return conf_fail(p, &t->pos, CORE_EPARSE, "unexpected byte 0x%02x", (unsigned)ch);
	t->type = CT_PUNCT;
	t->text[0] = (char)ch;
	t->text[1] = '\0';
	t->len = 1;
	return 0;
}

static void tok_copy(struct conf_tok *dst, const struct conf_tok *src)
{
	dst->type = src->type;
	dst->pos = src->pos;
	dst->len = src->len;
	memcpy(dst->text, src->text, src->len + 1);
}

int conf_next(struct conf_parser *p)
{
	if (p->have_peek) {
		p->have_peek = false;
		tok_copy(&p->tok, &p->peek);
		return 0;
	}
	return lex(p, &p->tok);
}

int conf_peek(struct conf_parser *p)
{
	int r;

	if (p->have_peek)
		return 0;
	r = lex(p, &p->peek);
	if (r == 0)
		p->have_peek = true;
	return r;
}

const char *conf_tok_show(const struct conf_tok *t, char *buf, size_t len)
{
	size_t i, n = 0;

	switch (t->type) {
	case CT_EOF:
		return "end of file";
	case CT_STRING:
		snprintf(buf, len, "a quoted string");
		return buf;
	default:
		break;
	}
	/* Words and punctuation are printable by construction; shorten long ones. */
	if (len < 8)
		return "a token";
	buf[n++] = '\'';
	for (i = 0; i < t->len && n + 5 < len; i++)
		buf[n++] = t->text[i];
	if (i < t->len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return buf;
}

bool conf_tok_is(const struct conf_tok *t, const char *word)
{
	return t->type == CT_WORD && !strcasecmp(t->text, word);
}

bool conf_tok_punct(const struct conf_tok *t, char ch)
{
	return t->type == CT_PUNCT && t->text[0] == ch;
}

int conf_expect_punct(struct conf_parser *p, char ch, const char *after)
{
	char buf[64];
	int r = conf_next(p);

	if (r)
		return r;
	if (!conf_tok_punct(&p->tok, ch))
		return conf_fail(p, &p->tok.pos, CORE_EPARSE, "expected '%c' after %s, got %s", ch,
				 after, conf_tok_show(&p->tok, buf, sizeof(buf)));
	return 0;
}

bool conf_tok_text(const struct conf_tok *t)
{
	return t->type == CT_STRING || (t->type == CT_WORD && !strpbrk(t->text, ".:"));
}

int conf_expect_word(struct conf_parser *p, const char *word, const char *after)
{
	char buf[64];
	int r = conf_next(p);

	if (r)
		return r;
	if (!conf_tok_is(&p->tok, word))
		return conf_fail(p, &p->tok.pos, CORE_EPARSE, "expected '%s' after %s, got %s",
				 word, after, conf_tok_show(&p->tok, buf, sizeof(buf)));
	return 0;
}

int conf_expect_semi(struct conf_parser *p, const char *stmt)
{
	return conf_expect_punct(p, ';', stmt);
}

void *conf_push(struct conf_parser *p, void *arr_ptr, size_t *n, size_t elem)
{
	void **arr = arr_ptr;
	size_t cnt = *n;

	/* Capacity is the next power of two, so growth happens exactly at powers of two. */
	if ((cnt & (cnt - 1)) == 0) {
		void *grown = core_arena_grow(&p->c->arena, *arr, cnt, cnt ? cnt * 2 : 1, elem);

		if (!grown) {
			conf_fail(p, NULL, -ENOMEM, "out of memory (configuration too large)");
			return NULL;
		}
		*arr = grown;
	}
	*n = cnt + 1;
	return (char *)*arr + cnt * elem;
}
