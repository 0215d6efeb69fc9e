/* Editing a distribution's openssl.cnf for the system-wide provider: dbtrust's lines go in as
 * marked blocks, each a run of whole lines dbtrust wrote, so that taking them out gives back the
 * file byte for byte, and an edit inside one is seen and refused rather than guessed at. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cnfedit.h"
#include "osslcnf.h"

/* One line of the file or of a file it includes, as OpenSSL's parser sees it. */
enum lkind { L_OTHER, L_SECT, L_KV, L_INCLUDE };

struct line {
    const char *p; /* the line without its line end */
    size_t n, eol; /* eol: 0, 1 ("\n") or 2 ("\r\n") */
    size_t off;    /* file 0: offset of the line's first byte */
    unsigned no;   /* 1-based, in its own file */
    int file;      /* 0: the edited file; else an included one */
    int bs;        /* ends with a backslash: the next line continues it */
    int cont;      /* continues the line before */
    enum lkind kind;
    size_t ko, kn, vo, vn; /* name (section or key) and value spans in p */
    long sect;             /* the header line governing this one, -1: the default section */
};

struct doc {
    const char *path;
    struct line *l;
    size_t n, cap;
    char *texts[DBT_CNF_MAX_INCLUDE_FILES];
    char *names[DBT_CNF_MAX_INCLUDE_FILES];
    int nfiles; /* included files read */
    int follow; /* 0: .include lines are not read (blocks are only in the file itself) */
};

static const char *file_name(const struct doc *d, int file)
{
    return file == 0 ? d->path : d->names[file - 1];
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Fills kind and spans. A comment starts at '#' outside quotes, as OpenSSL reads it. */
static void parse_line(struct line *ln)
{
    const char *p = ln->p;
    size_t i = 0, e, n = ln->n;
    char q = 0;

    ln->kind = L_OTHER;
    if (ln->cont)
        return;
    while (i < n && is_blank(p[i]))
        i++;
    if (i == n || p[i] == '#')
        return;
    if (p[i] == '[') {
        for (e = i + 1; e < n && p[e] != ']'; e++)
            ;
        if (e == n)
            return;
        i++;
        while (i < e && is_blank(p[i]))
            i++;
        while (e > i && is_blank(p[e - 1]))
            e--;
        ln->kind = L_SECT;
        ln->ko = i;
        ln->kn = e - i;
        return;
    }
    if (n - i >= 8 && strncmp(p + i, ".include", 8) == 0 &&
        (n - i == 8 || is_blank(p[i + 8]) || p[i + 8] == '=')) {
        ln->kind = L_INCLUDE;
        i += 8;
        while (i < n && (is_blank(p[i]) || p[i] == '='))
            i++;
        for (e = i; e < n && p[e] != '#'; e++)
            ;
        while (e > i && is_blank(p[e - 1]))
            e--;
        ln->vo = i;
        ln->vn = e - i;
        return;
    }
    if (p[i] == '.')
        return; /* .pragma and the like */
    for (e = i; e < n && p[e] != '='; e++)
        ;
    if (e == n)
        return;
    ln->ko = i;
    for (ln->kn = e - i; ln->kn > 0 && is_blank(p[i + ln->kn - 1]); ln->kn--)
        ;
    for (i = e + 1; i < n && is_blank(p[i]); i++)
        ;
    for (e = i; e < n; e++) {
        if (q != 0 && p[e] == '\\' && e + 1 < n)
            e++;
        else if (q != 0 && p[e] == q)
            q = 0;
        else if (q == 0 && (p[e] == '"' || p[e] == '\''))
            q = p[e];
        else if (q == 0 && p[e] == '#')
            break;
    }
    while (e > i && is_blank(p[e - 1]))
        e--;
    ln->kind = L_KV;
    ln->vo = i;
    ln->vn = e - i;
}

static int span_is(const struct line *ln, size_t o, size_t n, const char *s)
{
    return strlen(s) == n && memcmp(ln->p + o, s, n) == 0;
}

static int add_file(struct doc *d, const char *text, size_t len, int file, int depth, dbt_err *err);

/* Reads an included file (or the *.cnf and *.conf files of a directory, as OpenSSL does). A
 * path that cannot be read is skipped: OpenSSL skips it too, or fails the same way with or
 * without dbtrust's lines. */
static int include(struct doc *d, const struct line *ln, int depth, dbt_err *err)
{
    char path[4096], sub[4096 + 256];
    struct stat st;
    DIR *dir;
    struct dirent *de;
    char *names[64];
    int nn = 0, rc = 0;

    if (!d->follow || ln->vn == 0 || ln->vn >= sizeof(path) || ln->p[ln->vo] != '/')
        return 0; /* relative: resolved against each program's working directory */
    memcpy(path, ln->p + ln->vo, ln->vn);
    path[ln->vn] = '\0';
    if (depth >= DBT_CNF_MAX_INCLUDE_DEPTH) {
        dbt_err_set(err,
                    "%s line %u: .include %s is nested more than %d deep (an include loop?); "
                    "dbtrust edits only files it can read whole",
                    file_name(d, ln->file), ln->no, path, DBT_CNF_MAX_INCLUDE_DEPTH);
        return -1;
    }
    if (stat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return add_file(d, path, 0, -1, depth + 1, err);
    if ((dir = opendir(path)) == NULL)
        return 0;
    while ((de = readdir(dir)) != NULL && nn < 64) {
        size_t l = strlen(de->d_name);
        if ((l > 4 && strcmp(de->d_name + l - 4, ".cnf") == 0) ||
            (l > 5 && strcmp(de->d_name + l - 5, ".conf") == 0))
            names[nn++] = strdup(de->d_name);
    }
    closedir(dir);
    for (int i = 0; i < nn; i++) {
        if (rc == 0 && names[i] != NULL) {
            snprintf(sub, sizeof(sub), "%s/%s", path, names[i]);
            rc = add_file(d, sub, 0, -1, depth + 1, err);
        }
        free(names[i]);
    }
    return rc;
}

/* Appends the lines of text (file >= 0) or of the file named by text (file -1, read here). */
static int add_file(struct doc *d, const char *text, size_t len, int file, int depth, dbt_err *err)
{
    const char *p, *nl, *end;
    size_t off = 0;
    unsigned no = 0;
    int prev_bs = 0;

    if (file < 0) {
        char *data = NULL;
        ssize_t r;
        size_t got = 0;
        int fd;

        if (d->nfiles >= DBT_CNF_MAX_INCLUDE_FILES) {
            dbt_err_set(err,
                        "%s includes more than %d files; dbtrust edits only files it can read "
                        "whole",
                        d->path, DBT_CNF_MAX_INCLUDE_FILES);
            return -1;
        }
        if ((fd = open(text, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
            return 0;
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return 0; /* never read a FIFO or device */
        }
        if ((data = malloc(DBT_CNF_MAX_BYTES + 1)) == NULL) {
            close(fd);
            dbt_err_set(err, "out of memory");
            return -1;
        }
        while (got <= DBT_CNF_MAX_BYTES &&
               (r = read(fd, data + got, DBT_CNF_MAX_BYTES + 1 - got)) > 0)
            got += (size_t)r;
        close(fd);
        if (got > DBT_CNF_MAX_BYTES) {
            free(data);
            dbt_err_set(err, "%s (included by %s) is larger than %u bytes", text, d->path,
                        DBT_CNF_MAX_BYTES);
            return -1;
        }
        d->texts[d->nfiles] = data;
        d->names[d->nfiles] = strdup(text);
        file = ++d->nfiles;
        len = got;
        text = data;
    }
    for (p = text, end = text + len; p < end; p = nl) {
        struct line *ln;
        size_t n;

        if (d->n >= DBT_CNF_MAX_LINES) {
            dbt_err_set(err, "%s has more than %u lines (with what it includes)", d->path,
                        DBT_CNF_MAX_LINES);
            return -1;
        }
        if (d->n == d->cap) {
            size_t cap = d->cap ? d->cap * 2 : 256;
            struct line *nlp = realloc(d->l, cap * sizeof(*nlp));
            if (nlp == NULL) {
                dbt_err_set(err, "out of memory");
                return -1;
            }
            d->l = nlp;
            d->cap = cap;
        }
        ln = &d->l[d->n++];
        memset(ln, 0, sizeof(*ln));
        nl = memchr(p, '\n', (size_t)(end - p));
        n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        ln->eol = nl ? 1 : 0;
        if (nl && n > 0 && p[n - 1] == '\r') {
            n--;
            ln->eol = 2;
        }
        nl = nl ? nl + 1 : end;
        ln->p = p;
        ln->n = n;
        ln->off = off;
        off += n + ln->eol;
        ln->no = ++no;
        ln->file = file;
        ln->cont = prev_bs;
        ln->bs = prev_bs = n > 0 && p[n - 1] == '\\';
        parse_line(ln);
        if (ln->kind == L_INCLUDE && include(d, ln, depth, err) != 0)
            return -1;
    }
    return 0;
}

static void doc_free(struct doc *d)
{
    for (int i = 0; i < d->nfiles; i++) {
        free(d->texts[i]);
        free(d->names[i]);
    }
    free(d->l);
}

/* Which header governs each line: a header sets it for what follows, in included files too. */
static void assign_sections(struct doc *d)
{
    long cur = -1;

    for (size_t i = 0; i < d->n; i++) {
        if (d->l[i].kind == L_SECT)
            cur = (long)i;
        d->l[i].sect = cur;
    }
}

static int in_sect(const struct doc *d, const struct line *ln, const char *sect)
{
    if (ln->sect < 0)
        return strcmp(sect, "default") == 0;
    return span_is(&d->l[ln->sect], d->l[ln->sect].ko, d->l[ln->sect].kn, sect);
}

/* The last line setting key in sect (OpenSSL keeps the last), -1 when none. */
static long find_kv(const struct doc *d, const char *sect, const char *key)
{
    long found = -1;

    for (size_t i = 0; i < d->n; i++)
        if (d->l[i].kind == L_KV && span_is(&d->l[i], d->l[i].ko, d->l[i].kn, key) &&
            in_sect(d, &d->l[i], sect))
            found = (long)i;
    return found;
}

/* The first header of sect in the edited file (-1: none there); *any: in any file. */
static long find_header(const struct doc *d, const char *sect, long *any)
{
    *any = -1;
    for (size_t i = 0; i < d->n; i++)
        if (d->l[i].kind == L_SECT && span_is(&d->l[i], d->l[i].ko, d->l[i].kn, sect)) {
            if (*any < 0)
                *any = (long)i;
            if (d->l[i].file == 0)
                return (long)i;
        }
    return -1;
}

/* A value usable as a section name: copied to out. Variables ($x) and quotes are refused: what
 * they expand to is the parser's business, and dbtrust edits only what it reads for sure. */
static int value_name(const struct doc *d, long i, char *out, size_t outn, dbt_err *err)
{
    const struct line *ln = &d->l[i];

    if (ln->bs || ln->vn == 0 || ln->vn >= outn || strcspn(ln->p + ln->vo, "$\"'\\") < ln->vn) {
        dbt_err_set(err,
                    "%s line %u: the value of '%.*s' is empty, continued on the next line or "
                    "uses quotes or a variable; dbtrust edits only plain section names: write "
                    "the name itself",
                    file_name(d, ln->file), ln->no, (int)ln->kn, ln->p + ln->ko);
        return -1;
    }
    memcpy(out, ln->p + ln->vo, ln->vn);
    out[ln->vn] = '\0';
    return 0;
}

/* OpenSSL reads these activate values as off (and 3.0.0-3.0.? as on: either way, not ours). */
static int value_off(const struct line *ln)
{
    static const char *const off[] = {"0", "no", "false", "off", "n"};

    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
        if (strlen(off[i]) == ln->vn && strncasecmp(ln->p + ln->vo, off[i], ln->vn) == 0)
            return 1;
    return 0;
}

/* ------------------------------------------------------------ blocks */

/* The lines dbtrust writes inside a block; catalog and module take any value. */
static int ours(const char *p, size_t n)
{
    static const char *const fixed[] = {
        "openssl_conf = " DBT_CNF_INIT_SECT,
        "providers = " DBT_CNF_PROV_SECT,
        "dbtrust = " DBT_CNF_SECT,
        "default = " DBT_CNF_DEFAULT_SECT,
        "activate = 1",
        "soft_load = 1",
        "[" DBT_CNF_SECT "]",
        "[" DBT_CNF_INIT_SECT "]",
        "[" DBT_CNF_PROV_SECT "]",
        "[" DBT_CNF_DEFAULT_SECT "]",
    };

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strlen(fixed[i]) == n && memcmp(p, fixed[i], n) == 0)
            return 1;
    return (n > 10 && memcmp(p, "catalog = ", 10) == 0) ||
           (n > 9 && memcmp(p, "module = ", 9) == 0);
}

static int line_is(const struct line *ln, const char *s)
{
    return strlen(s) == ln->n && memcmp(ln->p, s, ln->n) == 0;
}

/* Reads an openssl.cnf value as dbt_cnf_put_value wrote it. */
static void unquote(const char *p, size_t n, char *out, size_t outn)
{
    size_t o = 0;

    if (n >= 2 && p[0] == '\'' && p[n - 1] == '\'') {
        for (size_t i = 1; i + 1 < n && o + 1 < outn; i++) {
            if (p[i] == '\\' && i + 2 < n)
                i++;
            out[o++] = p[i];
        }
    } else {
        for (size_t i = 0; i < n && o + 1 < outn; i++)
            out[o++] = p[i];
    }
    out[o] = '\0';
}

/*
 * Finds dbtrust's blocks in the edited file's lines (file 0 only): drop[i] is 1 for their
 * lines, and *dropeol[i] for a line whose line end a BEGIN_EOL block says it added. Refuses, naming
 * the line, a block that is unterminated, nested, or holds a line dbtrust does not write. info
 * (may be NULL) receives catalog and module.
 */
static int find_blocks(const struct doc *d, size_t nlines, char *drop, dbt_cnf_info *info,
                       int *found, dbt_err *err)
{
    long begin = -1;
    int eolblock = 0;

    *found = 0;
    for (size_t i = 0; i < nlines; i++) {
        const struct line *ln = &d->l[i];
        int b = line_is(ln, DBT_CNF_BEGIN), be = line_is(ln, DBT_CNF_BEGIN_EOL);

        if (b || be) {
            if (begin >= 0) {
                dbt_err_set(err,
                            "%s line %u: a dbtrust block starts inside the one of line %u: "
                            "the marked lines were edited; restore them, or remove every line "
                            "from '# BEGIN dbtrust' to '# END dbtrust' by hand",
                            d->path, ln->no, d->l[begin].no);
                return -1;
            }
            if (be && (i == 0 || d->l[i - 1].eol == 0)) {
                dbt_err_set(err,
                            "%s line %u: a dbtrust block says a line end was added before "
                            "it, but there is none to remove; remove the block by hand",
                            d->path, ln->no);
                return -1;
            }
            begin = (long)i;
            eolblock |= be;
            drop[i] = 1;
            continue;
        }
        if (begin < 0) {
            if (line_is(ln, DBT_CNF_END)) {
                dbt_err_set(err,
                            "%s line %u: '%s' without its BEGIN line: the marked lines were "
                            "edited; restore them, or remove the rest of dbtrust's lines by hand",
                            d->path, ln->no, DBT_CNF_END);
                return -1;
            }
            if (eolblock) {
                dbt_err_set(err,
                            "%s line %u: a line follows dbtrust's last block, which added the "
                            "file's last line end: removing it would join lines; move the line "
                            "above the block",
                            d->path, ln->no);
                return -1;
            }
            continue;
        }
        drop[i] = 1;
        if (line_is(ln, DBT_CNF_END)) {
            begin = -1;
            *found = 1;
            continue;
        }
        if (ln->eol == 0 || !ours(ln->p, ln->n)) {
            dbt_err_set(err,
                        "%s line %u: '%.*s' is inside dbtrust's marked block (from line %u) but "
                        "is not a line dbtrust writes: someone edited it; restore the block as "
                        "dbtrust wrote it, or remove every line from '# BEGIN dbtrust' to "
                        "'# END dbtrust' by hand",
                        d->path, ln->no, (int)(ln->n > 200 ? 200 : ln->n), ln->p, d->l[begin].no);
            return -1;
        }
        if (info != NULL && ln->n > 10 && memcmp(ln->p, "catalog = ", 10) == 0)
            unquote(ln->p + 10, ln->n - 10, info->catalog, sizeof(info->catalog));
        if (info != NULL && ln->n > 9 && memcmp(ln->p, "module = ", 9) == 0)
            unquote(ln->p + 9, ln->n - 9, info->module, sizeof(info->module));
    }
    if (begin >= 0) {
        dbt_err_set(err,
                    "%s line %u: dbtrust's block has no '%s' line: the marked lines were "
                    "edited; restore them, or remove dbtrust's lines by hand",
                    d->path, d->l[begin].no, DBT_CNF_END);
        return -1;
    }
    return 0;
}

static int load_main(struct doc *d, const char *path, const char *text, size_t len, int includes,
                     dbt_err *err)
{
    memset(d, 0, sizeof(*d));
    d->path = path;
    if (len > DBT_CNF_MAX_BYTES) {
        dbt_err_set(err, "%s is larger than %u bytes; dbtrust edits only files it can read whole",
                    path, DBT_CNF_MAX_BYTES);
        return -1;
    }
    if (memchr(text, '\0', len) != NULL) {
        dbt_err_set(err, "%s holds a NUL byte: not an openssl.cnf dbtrust can edit", path);
        return -1;
    }
    d->follow = includes;
    return add_file(d, text, len, 0, 0, err);
}

/* Without dbtrust's blocks. */
static int strip(const char *path, const char *text, size_t len, char **out, size_t *outlen,
                 int *found, dbt_cnf_info *info, dbt_err *err)
{
    struct doc d;
    char *drop = NULL, *o = NULL;
    size_t on = 0;
    int rc = -1;

    /* Includes are not read here: blocks are only in the file itself, and a line counts by
     * its place in the file. */
    if (load_main(&d, path, text, len, 0, err) != 0)
        goto end;
    if ((drop = calloc(d.n + 1, 1)) == NULL || (o = malloc(len + 1)) == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    /* A file of included lines only: every line here is file 0 (includes are not followed). */
    if (find_blocks(&d, d.n, drop, info, found, err) != 0)
        goto end;
    for (size_t i = 0; i < d.n; i++) {
        if (drop[i]) {
            if (line_is(&d.l[i], DBT_CNF_BEGIN_EOL))
                on -= d.l[i - 1].eol; /* the line end the block added */
            continue;
        }
        memcpy(o + on, d.l[i].p, d.l[i].n + d.l[i].eol);
        on += d.l[i].n + d.l[i].eol;
    }
    o[on] = '\0';
    *out = o;
    *outlen = on;
    o = NULL;
    rc = 0;
end:
    free(o);
    free(drop);
    doc_free(&d);
    return rc;
}

int dbt_cnf_edit_disable(const char *path, const char *text, size_t len, char **out, size_t *outlen,
                         dbt_err *err)
{
    int found = 0;

    if (strip(path, text, len, out, outlen, &found, NULL, err) != 0)
        return -1;
    return found ? 0 : 1;
}

int dbt_cnf_edit_info(const char *path, const char *text, size_t len, dbt_cnf_info *info,
                      dbt_err *err)
{
    char *o = NULL;
    size_t on;
    int found = 0;

    memset(info, 0, sizeof(*info));
    if (strip(path, text, len, &o, &on, &found, info, err) != 0)
        return -1;
    free(o);
    info->wired = found;
    return 0;
}

/* ------------------------------------------------------------ enable */

struct ins {
    size_t off; /* in the stripped text */
    char text[8192];
    size_t n;
};

/* Appends a line (with the file's line end) to a block being built. */
static void put(struct ins *b, const char *eol, const char *s)
{
    b->n += (size_t)snprintf(b->text + b->n, sizeof(b->text) - b->n, "%s%s", s, eol);
}

static int need_header0(const struct doc *d, const char *sect, long *h, dbt_err *err)
{
    long any;

    *h = find_header(d, sect, &any);
    if (*h >= 0)
        return 0;
    if (any >= 0)
        dbt_err_set(err,
                    "section [%s] is defined in %s (included by %s), which dbtrust does not "
                    "edit; add the provider to that file by hand (see the openssl.cnf dbtrust "
                    "prints) or move the section into %s",
                    sect, file_name(d, d->l[any].file), d->path, d->path);
    else
        dbt_err_set(err,
                    "%s names the section [%s], which it does not define: OpenSSL cannot use "
                    "that configuration as it is; fix the file first",
                    d->path, sect);
    return -1;
}

/* The offset just after line i of file 0; refused when the line is continued. */
static int after_line(const struct doc *d, long i, size_t *off, dbt_err *err)
{
    if (d->l[i].bs) {
        dbt_err_set(err,
                    "%s line %u ends with a backslash (continued on the next line); "
                    "dbtrust adds no line after it",
                    d->path, d->l[i].no);
        return -1;
    }
    *off = d->l[i].off + d->l[i].n + d->l[i].eol;
    return 0;
}

int dbt_cnf_edit_enable(const char *path, const char *text, size_t len, const char *catalog,
                        const char *module, char **out, size_t *outlen, dbt_err *err)
{
    static const char *const mine[] = {DBT_CNF_SECT, DBT_CNF_INIT_SECT, DBT_CNF_PROV_SECT,
                                       DBT_CNF_DEFAULT_SECT};
    struct ins *blk = NULL;
    struct doc d;
    char *base = NULL, *o = NULL, init[256], prov[256], dsect[256];
    const char *eol;
    size_t blen, nb = 0, on = 0, cap;
    long i, h, any;
    int found, own_prov = 0, own_init = 0, need_default = 0, rc = -1;
    FILE *mf = NULL;
    char *val = NULL;
    size_t vlen = 0;

    memset(&d, 0, sizeof(d));
    if (catalog == NULL)
        catalog = DBT_CNF_DEFAULT_CATALOG;
    if (dbt_cnf_path_check(catalog, "catalog", err) != 0 ||
        (module != NULL && dbt_cnf_path_check(module, "module", err) != 0))
        return -1;
    if (strip(path, text, len, &base, &blen, &found, NULL, err) != 0)
        return -1;
    if (load_main(&d, path, base, blen, 1, err) != 0)
        goto end;
    assign_sections(&d);
    eol = d.n > 0 && d.l[0].eol == 2 ? "\r\n" : "\n";
    if ((blk = calloc(5, sizeof(*blk))) == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    for (size_t k = 0; k < sizeof(mine) / sizeof(mine[0]); k++)
        if (find_header(&d, mine[k], &any), any >= 0) {
            dbt_err_set(err,
                        "%s line %u: the section [%s] is dbtrust's own name but is not in a "
                        "block dbtrust wrote; rename or remove that section first",
                        file_name(&d, d.l[any].file), d.l[any].no, mine[k]);
            goto end;
        }

    /* openssl_conf -> its init section -> providers = the providers section. */
    if ((i = find_kv(&d, "default", "openssl_conf")) < 0) {
        size_t at = blen;
        for (size_t k = 0; k < d.n; k++)
            if (d.l[k].file == 0 && d.l[k].kind == L_SECT) {
                at = d.l[k].off;
                if (k > 0 && (d.l[k - 1].bs || !in_sect(&d, &d.l[k - 1], "default"))) {
                    dbt_err_set(err,
                                "%s line %u: the lines before the first section are not all in "
                                "the default section (an .include changes it, or a line is "
                                "continued); add openssl_conf by hand",
                                d.path, d.l[k].no);
                    goto end;
                }
                break;
            }
        blk[nb].off = at;
        put(&blk[nb], eol, "openssl_conf = " DBT_CNF_INIT_SECT);
        nb++;
        own_init = own_prov = need_default = 1;
    } else {
        if (value_name(&d, i, init, sizeof(init), err) != 0)
            goto end;
        if (need_header0(&d, init, &h, err) != 0)
            goto end;
        if ((i = find_kv(&d, init, "providers")) < 0) {
            if (after_line(&d, h, &blk[nb].off, err) != 0)
                goto end;
            put(&blk[nb], eol, "providers = " DBT_CNF_PROV_SECT);
            nb++;
            own_prov = need_default = 1;
        } else if (value_name(&d, i, prov, sizeof(prov), err) != 0) {
            goto end;
        }
    }
    if (!own_prov) {
        long def = -1, act;
        int active_other = 0;

        if (need_header0(&d, prov, &h, err) != 0)
            goto end;
        for (size_t k = 0; k < d.n; k++) {
            const struct line *ln = &d.l[k];
            char s[256];
            dbt_err ign;

            if (ln->kind != L_KV || !in_sect(&d, ln, prov))
                continue;
            if (span_is(ln, ln->ko, ln->kn, "dbtrust")) {
                dbt_err_set(err,
                            "%s line %u: the providers section [%s] already names a provider "
                            "'dbtrust' (added by hand?); remove that line and its section, "
                            "then enable again",
                            file_name(&d, ln->file), ln->no, prov);
                goto end;
            }
            if (span_is(ln, ln->ko, ln->kn, "default")) {
                def = (long)k;
                continue;
            }
            if (value_name(&d, (long)k, s, sizeof(s), &ign) == 0 &&
                (act = find_kv(&d, s, "activate")) >= 0 && !value_off(&d.l[act]))
                active_other = 1;
        }
        if (after_line(&d, h, &blk[nb].off, err) != 0)
            goto end;
        put(&blk[nb], eol, "dbtrust = " DBT_CNF_SECT);
        if (def < 0 && !active_other) {
            /* Nothing activated today: OpenSSL loads "default" implicitly, and stops doing so
             * once dbtrust is activated. */
            put(&blk[nb], eol, "default = " DBT_CNF_DEFAULT_SECT);
            need_default = 1;
        }
        nb++;
        if (def >= 0) {
            if (value_name(&d, def, dsect, sizeof(dsect), err) != 0 ||
                need_header0(&d, dsect, &h, err) != 0)
                goto end;
            if ((act = find_kv(&d, dsect, "activate")) >= 0 && value_off(&d.l[act])) {
                dbt_err_set(err,
                            "%s line %u: the default provider is turned off (%.*s); activating "
                            "dbtrust would leave programs without it, so dbtrust does not "
                            "change this file: turn it on, or load dbtrust per program instead",
                            file_name(&d, d.l[act].file), d.l[act].no, (int)d.l[act].n, d.l[act].p);
                goto end;
            }
            if (act < 0) {
                if (after_line(&d, h, &blk[nb].off, err) != 0)
                    goto end;
                put(&blk[nb], eol, "activate = 1");
                nb++;
            }
        }
    }

    /* dbtrust's own sections, at the end. */
    if (d.n > 0 && d.l[d.n - 1].file == 0 && d.l[d.n - 1].bs) {
        dbt_err_set(err, "%s ends with a continued line (a final backslash); fix the file first",
                    d.path);
        goto end;
    }
    blk[nb].off = blen;
    put(&blk[nb], eol, "[" DBT_CNF_SECT "]");
    {
        if ((mf = open_memstream(&val, &vlen)) == NULL) {
            dbt_err_set(err, "out of memory");
            goto end;
        }
        if (module != NULL) {
            fputs("module = ", mf);
            dbt_cnf_put_value(mf, module);
            fputs(eol, mf);
        }
        fputs("catalog = ", mf);
        dbt_cnf_put_value(mf, catalog);
        if (fclose(mf) != 0) {
            mf = NULL;
            dbt_err_set(err, "out of memory");
            goto end;
        }
        mf = NULL;
        put(&blk[nb], eol, val);
    }
    put(&blk[nb], eol, "activate = 1");
    /* OpenSSL 3.2+: a module that cannot be loaded is skipped without an error (3.0 and 3.5
     * were measured to go on without it anyway; see the dbtrust(1) page). */
    put(&blk[nb], eol, "soft_load = 1");
    if (own_init) {
        put(&blk[nb], eol, "[" DBT_CNF_INIT_SECT "]");
        put(&blk[nb], eol, "providers = " DBT_CNF_PROV_SECT);
    }
    if (own_prov) {
        put(&blk[nb], eol, "[" DBT_CNF_PROV_SECT "]");
        put(&blk[nb], eol, "default = " DBT_CNF_DEFAULT_SECT);
        put(&blk[nb], eol, "dbtrust = " DBT_CNF_SECT);
    }
    if (need_default) {
        put(&blk[nb], eol, "[" DBT_CNF_DEFAULT_SECT "]");
        put(&blk[nb], eol, "activate = 1");
    }
    nb++;

    /* Blocks were made in file order (top, init, providers, default's section, tail) except
     * that the default provider's section may come before the providers one: sort. */
    for (size_t a = 1; a < nb; a++)
        for (size_t b = a; b > 0 && blk[b - 1].off > blk[b].off; b--) {
            struct ins t = blk[b - 1];
            blk[b - 1] = blk[b];
            blk[b] = t;
        }
    cap = blen + nb * (sizeof(blk[0].text) + 256) + 1;
    if ((o = malloc(cap)) == NULL) {
        dbt_err_set(err, "out of memory");
        goto end;
    }
    {
        size_t from = 0;
        for (size_t k = 0; k < nb; k++) {
            memcpy(o + on, base + from, blk[k].off - from);
            on += blk[k].off - from;
            from = blk[k].off;
            if (on > 0 && o[on - 1] != '\n') {
                on += (size_t)sprintf(o + on, "%s%s%s", eol, DBT_CNF_BEGIN_EOL, eol);
            } else {
                on += (size_t)sprintf(o + on, "%s%s", DBT_CNF_BEGIN, eol);
            }
            memcpy(o + on, blk[k].text, blk[k].n);
            on += blk[k].n;
            on += (size_t)sprintf(o + on, "%s%s", DBT_CNF_END, eol);
        }
        memcpy(o + on, base + from, blen - from);
        on += blen - from;
        o[on] = '\0';
    }
    *out = o;
    *outlen = on;
    o = NULL;
    rc = 0;
end:
    if (mf != NULL)
        fclose(mf);
    free(val);
    free(o);
    free(blk);
    free(base);
    doc_free(&d);
    return rc;
}
