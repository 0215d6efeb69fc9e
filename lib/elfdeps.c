/* What a shared object loads (DT_NEEDED, DT_RUNPATH, DT_RPATH) and what a libcrypto says of
 * itself (version, OPENSSLDIR), read from the file's bytes (lib/consumers.h): dbtrust never loads
 * a library it inspects, and the file may be hostile, so every offset, count and size it holds is
 * checked against the bytes read and a fixed bound before it is used. */
#include "config.h"

#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consumers.h"

/* One program header, whatever the class. */
struct seg {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz;
};

struct elf {
    const char *name;
    const unsigned char *data;
    size_t len;
    int cls, machine;
    struct seg *segs;
    size_t nsegs;
};

/* Whether [off, off+size) lies inside the file (no overflow). */
static int in_file(const struct elf *e, uint64_t off, uint64_t size)
{
    return off <= e->len && size <= e->len - off;
}

static int native_order(void)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return ELFDATA2LSB;
#else
    return ELFDATA2MSB;
#endif
}

/* The ELF header and the program headers. */
static int elf_open(struct elf *e, const char *name, const unsigned char *data, size_t len,
                    dbt_err *err)
{
    uint64_t phoff;
    size_t phnum, phentsize, i;

    memset(e, 0, sizeof(*e));
    e->name = name;
    e->data = data;
    e->len = len;
    if (len < EI_NIDENT || memcmp(data, ELFMAG, SELFMAG) != 0) {
        dbt_err_set(err, "%s: not an ELF file", name);
        return -1;
    }
    e->cls = data[EI_CLASS];
    if (data[EI_DATA] != native_order()) {
        dbt_err_set(err, "%s: an ELF file of the other byte order (not for this machine)", name);
        return -1;
    }
/* The header's fields, the same names in both classes. */
#define READ_EHDR(Ehdr, Phdr)                                                                      \
    do {                                                                                           \
        Ehdr h;                                                                                    \
        if (len < sizeof(h))                                                                       \
            goto truncated;                                                                        \
        memcpy(&h, data, sizeof(h));                                                               \
        phoff = h.e_phoff;                                                                         \
        phnum = h.e_phnum;                                                                         \
        phentsize = h.e_phentsize;                                                                 \
        e->machine = h.e_machine;                                                                  \
        if (phentsize != sizeof(Phdr))                                                             \
            goto bad_phentsize;                                                                    \
    } while (0)
    if (e->cls == ELFCLASS64) {
        READ_EHDR(Elf64_Ehdr, Elf64_Phdr);
    } else if (e->cls == ELFCLASS32) {
        READ_EHDR(Elf32_Ehdr, Elf32_Phdr);
    } else {
        dbt_err_set(err, "%s: unknown ELF class %d", name, e->cls);
        return -1;
    }
    if (phnum == 0 || phnum > DBT_ELF_MAX_PHDRS) {
        dbt_err_set(err, "%s: %zu program headers (a shared library has 1 to %u)", name, phnum,
                    DBT_ELF_MAX_PHDRS);
        return -1;
    }
    if (!in_file(e, phoff, (uint64_t)phnum * phentsize)) {
        dbt_err_set(err,
                    "%s: truncated or damaged: %zu program headers at offset %llu run past its "
                    "end (%zu bytes)",
                    name, phnum, (unsigned long long)phoff, len);
        return -1;
    }
    if ((e->segs = calloc(phnum, sizeof(*e->segs))) == NULL) {
        dbt_err_set(err, "%s: out of memory", name);
        return -1;
    }
    for (i = 0; i < phnum; i++) {
        const unsigned char *p = data + phoff + i * phentsize;
        struct seg *s = &e->segs[i];

        if (e->cls == ELFCLASS64) {
            Elf64_Phdr ph;

            memcpy(&ph, p, sizeof(ph));
            *s = (struct seg){ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr, ph.p_filesz};
        } else {
            Elf32_Phdr ph;

            memcpy(&ph, p, sizeof(ph));
            *s = (struct seg){ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr, ph.p_filesz};
        }
    }
    e->nsegs = phnum;
    return 0;
truncated:
    dbt_err_set(err, "%s: truncated: %zu bytes, shorter than an ELF header", name, len);
    return -1;
bad_phentsize:
    dbt_err_set(err, "%s: damaged: program header size %zu is not this class's", name, phentsize);
    return -1;
}

/* The file offset of virtual address a, through the PT_LOAD segment that maps it; -1 if none. */
static int vaddr_to_off(const struct elf *e, uint64_t a, uint64_t *off)
{
    size_t i;

    for (i = 0; i < e->nsegs; i++) {
        const struct seg *s = &e->segs[i];

        if (s->type == PT_LOAD && a >= s->vaddr && a - s->vaddr < s->filesz) {
            *off = s->offset + (a - s->vaddr);
            return 0;
        }
    }
    return -1;
}

/* A string of the dynamic string table strtab[0..strsz): NUL-terminated inside the table and at
 * most DBT_ELF_MAX_STR bytes long. */
static char *dyn_str(const struct elf *e, const char *what, const unsigned char *strtab,
                     uint64_t strsz, uint64_t o, dbt_err *err)
{
    const unsigned char *z;
    uint64_t room;
    char *s;

    if (o >= strsz) {
        dbt_err_set(err, "%s: damaged: %s at string table offset %llu, past its end (%llu bytes)",
                    e->name, what, (unsigned long long)o, (unsigned long long)strsz);
        return NULL;
    }
    room = strsz - o;
    if (room > DBT_ELF_MAX_STR + 1)
        room = DBT_ELF_MAX_STR + 1;
    if ((z = memchr(strtab + o, '\0', (size_t)room)) == NULL) {
        dbt_err_set(err,
                    "%s: damaged: %s at string table offset %llu is not terminated within "
                    "%u bytes",
                    e->name, what, (unsigned long long)o, DBT_ELF_MAX_STR);
        return NULL;
    }
    if ((s = strndup((const char *)strtab + o, (size_t)(z - (strtab + o)))) == NULL)
        dbt_err_set(err, "%s: out of memory", e->name);
    return s;
}

void dbt_elf_deps_clear(dbt_elf_deps *d)
{
    size_t i;

    for (i = 0; i < d->nneeded; i++)
        free(d->needed[i]);
    free(d->needed);
    free(d->runpath);
    free(d->rpath);
    memset(d, 0, sizeof(*d));
}

int dbt_elf_deps_parse(const char *name, const unsigned char *data, size_t len, dbt_elf_deps *out,
                       dbt_err *err)
{
    uint64_t needed[DBT_ELF_MAX_NEEDED], strtab = 0, strsz = 0, stroff = 0, runpath = 0, rpath = 0;
    int have_strtab = 0, have_strsz = 0, have_runpath = 0, have_rpath = 0;
    const struct seg *dyn = NULL;
    size_t nneeded = 0, ndyn, i, entsz;
    struct elf e;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (elf_open(&e, name, data, len, err) != 0)
        return -1;
    out->elfclass = e.cls;
    out->machine = e.machine;
    for (i = 0; i < e.nsegs; i++)
        if (e.segs[i].type == PT_DYNAMIC) {
            dyn = &e.segs[i];
            break;
        }
    if (dyn == NULL) {
        dbt_err_set(err, "%s: no dynamic section: not a shared library", name);
        goto end;
    }
    entsz = e.cls == ELFCLASS64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
    if (!in_file(&e, dyn->offset, dyn->filesz)) {
        dbt_err_set(err,
                    "%s: truncated or damaged: the dynamic section at offset %llu (%llu bytes) "
                    "runs past its end (%zu bytes)",
                    name, (unsigned long long)dyn->offset, (unsigned long long)dyn->filesz, len);
        goto end;
    }
    ndyn = (size_t)(dyn->filesz / entsz);
    if (ndyn > DBT_ELF_MAX_DYN) {
        dbt_err_set(err, "%s: %zu dynamic entries (at most %u are read)", name, ndyn,
                    DBT_ELF_MAX_DYN);
        goto end;
    }
    for (i = 0; i < ndyn; i++) {
        const unsigned char *p = data + dyn->offset + i * entsz;
        int64_t tag;
        uint64_t val;

        if (e.cls == ELFCLASS64) {
            Elf64_Dyn d;

            memcpy(&d, p, sizeof(d));
            tag = d.d_tag;
            val = d.d_un.d_val;
        } else {
            Elf32_Dyn d;

            memcpy(&d, p, sizeof(d));
            tag = d.d_tag;
            val = d.d_un.d_val;
        }
        if (tag == DT_NULL)
            break;
        switch (tag) {
        case DT_NEEDED:
            if (nneeded == DBT_ELF_MAX_NEEDED) {
                dbt_err_set(err, "%s: more than %u DT_NEEDED entries", name, DBT_ELF_MAX_NEEDED);
                goto end;
            }
            needed[nneeded++] = val;
            break;
        case DT_STRTAB:
            strtab = val;
            have_strtab = 1;
            break;
        case DT_STRSZ:
            strsz = val;
            have_strsz = 1;
            break;
        case DT_RUNPATH:
            runpath = val;
            have_runpath = 1;
            break;
        case DT_RPATH:
            rpath = val;
            have_rpath = 1;
            break;
        default:
            break;
        }
    }
    if (nneeded == 0 && !have_runpath && !have_rpath) {
        rc = 0;
        goto end;
    }
    if (!have_strtab || !have_strsz || vaddr_to_off(&e, strtab, &stroff) != 0 ||
        !in_file(&e, stroff, strsz)) {
        dbt_err_set(err,
                    "%s: damaged: the dynamic string table (address %#llx, %llu bytes) is "
                    "missing or lies outside the file (%zu bytes)",
                    name, (unsigned long long)strtab, (unsigned long long)strsz, len);
        goto end;
    }
    if (nneeded > 0 && (out->needed = calloc(nneeded, sizeof(*out->needed))) == NULL) {
        dbt_err_set(err, "%s: out of memory", name);
        goto end;
    }
    for (i = 0; i < nneeded; i++) {
        if ((out->needed[i] =
                 dyn_str(&e, "a DT_NEEDED name", data + stroff, strsz, needed[i], err)) == NULL)
            goto end;
        out->nneeded++;
    }
    if (have_runpath &&
        (out->runpath = dyn_str(&e, "DT_RUNPATH", data + stroff, strsz, runpath, err)) == NULL)
        goto end;
    if (have_rpath &&
        (out->rpath = dyn_str(&e, "DT_RPATH", data + stroff, strsz, rpath, err)) == NULL)
        goto end;
    rc = 0;
end:
    free(e.segs);
    if (rc != 0)
        dbt_elf_deps_clear(out);
    return rc;
}

/* Copies the string that starts at p (up to a NUL or a quote when quoted, at most max - 1
 * bytes, inside [p, end)); 0, or -1 when it does not end in time. */
static int take_str(const unsigned char *p, const unsigned char *end, int quoted, char *out,
                    size_t max)
{
    size_t i;

    for (i = 0; p + i < end && i < max - 1; i++) {
        if (p[i] == '\0' || (quoted && p[i] == '"')) {
            if (quoted && p[i] != '"')
                return -1;
            memcpy(out, p, i);
            out[i] = '\0';
            return 0;
        }
    }
    return -1;
}

/* "OpenSSL 3.0.19 ..." at a string's start: "OpenSSL " then digit '.' digit. */
static int version_at(const unsigned char *base, const unsigned char *p, const unsigned char *end)
{
    return (p == base || p[-1] == '\0') && end - p > 11 && memcmp(p, "OpenSSL ", 8) == 0 &&
           p[8] >= '0' && p[8] <= '9' && p[9] == '.' && p[10] >= '0' && p[10] <= '9';
}

int dbt_crypto_scan(const char *name, const unsigned char *data, size_t len,
                    dbt_crypto_strings *out, dbt_err *err)
{
    static const char dirtag[] = "OPENSSLDIR: \"";
    struct elf e;
    size_t i;

    memset(out, 0, sizeof(*out));
    if (elf_open(&e, name, data, len, err) != 0)
        return -1;
    /* Only bytes the loader maps read-only: where the compiler puts string constants. */
    for (i = 0; i < e.nsegs; i++) {
        const struct seg *s = &e.segs[i];
        const unsigned char *base, *end, *p;

        if (s->type != PT_LOAD || (s->flags & PF_W) || !in_file(&e, s->offset, s->filesz))
            continue;
        base = data + s->offset;
        end = base + s->filesz;
        if (out->openssldir[0] == '\0' &&
            (p = memmem(base, (size_t)(end - base), dirtag, sizeof(dirtag) - 1)) != NULL)
            take_str(p + sizeof(dirtag) - 1, end, 1, out->openssldir, sizeof(out->openssldir));
        for (p = base; out->version[0] == '\0' && p < end;) {
            const unsigned char *q = memmem(p, (size_t)(end - p), "OpenSSL ", 8);

            if (q == NULL)
                break;
            if (version_at(base, q, end))
                take_str(q, end, 0, out->version, sizeof(out->version));
            p = q + 8;
        }
    }
    free(e.segs);
    if (out->openssldir[0] == '\0') {
        dbt_err_set(err,
                    "%s: no OPENSSLDIR string in its read-only data: not a libcrypto of "
                    "OpenSSL",
                    name);
        return -1;
    }
    return 0;
}
