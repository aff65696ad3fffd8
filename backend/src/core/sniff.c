#include "core/sniff.h"

#include <string.h>
#include <strings.h>

#define T_DOCX "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#define T_XLSX "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#define T_PPTX "application/vnd.openxmlformats-officedocument.presentationml.presentation"
#define T_ODT  "application/vnd.oasis.opendocument.text"
#define T_ODS  "application/vnd.oasis.opendocument.spreadsheet"
#define T_ODP  "application/vnd.oasis.opendocument.presentation"
#define T_OLE  "application/x-ole-storage"

const char *const sniff_catalogue[] = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/zip",
    T_DOCX,
    T_XLSX,
    T_PPTX,
    T_ODT,
    T_ODS,
    T_ODP,
    T_OLE,
    SNIFF_TYPE_SVG,
    SNIFF_TYPE_UNKNOWN,
    NULL,
};

int sniff_known(const char *type)
{
    for (const char *const *t = sniff_catalogue; *t; t++)
        if (strcmp(*t, type) == 0)
            return 1;
    return 0;
}

int sniff_is_raster(const char *type)
{
    return strcmp(type, "image/png") == 0 || strcmp(type, "image/jpeg") == 0 || strcmp(type, "image/gif") == 0 ||
           strcmp(type, "image/webp") == 0;
}

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}
static unsigned le16(const unsigned char *p)
{
    return (unsigned)p[1] << 8 | p[0];
}
static unsigned long be32(const unsigned char *p)
{
    return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

static void set_size(struct sniff_result *out, unsigned long w, unsigned long h)
{
    /* Absurd sizes are no sizes: the UI falls back to a card. */
    if (w > 0 && h > 0 && w <= 100000 && h <= 100000) {
        out->width = (int)w;
        out->height = (int)h;
    }
}

/* JPEG: walk the segments to the first start-of-frame. */
static void jpeg_size(const unsigned char *p, size_t len, struct sniff_result *out)
{
    size_t i = 2;
    while (i + 9 < len) {
        if (p[i] != 0xFF) {
            i++;
            continue;
        }
        unsigned char marker = p[i + 1];
        if (marker == 0xFF) {
            i++;
            continue;
        }
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
            i += 2;
            continue;
        }
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
            set_size(out, be16(p + i + 7), be16(p + i + 5));
            return;
        }
        i += 2 + be16(p + i + 2);
    }
}

static void webp_size(const unsigned char *p, size_t len, struct sniff_result *out)
{
    if (len >= 30 && memcmp(p + 12, "VP8 ", 4) == 0)
        set_size(out, le16(p + 26) & 0x3FFF, le16(p + 28) & 0x3FFF);
    else if (len >= 25 && memcmp(p + 12, "VP8L", 4) == 0 && p[20] == 0x2F) {
        unsigned long b =
            (unsigned long)p[21] | (unsigned long)p[22] << 8 | (unsigned long)p[23] << 16 | (unsigned long)p[24] << 24;
        set_size(out, (b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1);
    } else if (len >= 30 && memcmp(p + 12, "VP8X", 4) == 0) {
        set_size(out, ((unsigned long)p[24] | (unsigned long)p[25] << 8 | (unsigned long)p[26] << 16) + 1,
                 ((unsigned long)p[27] | (unsigned long)p[28] << 8 | (unsigned long)p[29] << 16) + 1);
    }
}

/* Which office format a zip is, from the names of its first entries. */
static const char *zip_kind(const unsigned char *p, size_t len)
{
    /* OpenDocument: the first entry is "mimetype", stored, holding the type. */
    if (len > 38 + 40 && memcmp(p + 30, "mimetype", 8) == 0) {
        const char *mt = (const char *)p + 38;
        if (strncmp(mt, T_ODT, strlen(T_ODT)) == 0 && mt[strlen(T_ODT)] != '-')
            return T_ODT;
        if (strncmp(mt, T_ODS, strlen(T_ODS)) == 0 && mt[strlen(T_ODS)] != '-')
            return T_ODS;
        if (strncmp(mt, T_ODP, strlen(T_ODP)) == 0 && mt[strlen(T_ODP)] != '-')
            return T_ODP;
    }
    /* Office Open XML: [Content_Types].xml plus a word/, xl/ or ppt/ part
     * among the entries in the head. */
    int ooxml = 0;
    const char *kind = NULL;
    for (size_t i = 0; i + 30 < len; i++) {
        if (memcmp(p + i, "PK\x03\x04", 4) != 0)
            continue;
        size_t nlen = le16(p + i + 26);
        const char *name = (const char *)p + i + 30;
        if (i + 30 + nlen > len)
            break;
        if (nlen == 19 && memcmp(name, "[Content_Types].xml", 19) == 0)
            ooxml = 1;
        else if (!kind && nlen > 5 && memcmp(name, "word/", 5) == 0)
            kind = T_DOCX;
        else if (!kind && nlen > 3 && memcmp(name, "xl/", 3) == 0)
            kind = T_XLSX;
        else if (!kind && nlen > 4 && memcmp(name, "ppt/", 4) == 0)
            kind = T_PPTX;
        if (ooxml && kind)
            return kind;
    }
    return "application/zip";
}

/* Markup anywhere near the start (after a BOM and white space, comments or
 * a declaration) is HTML or SVG to a browser, whatever else it claims. */
static const char *markup_kind(const unsigned char *p, size_t len)
{
    size_t n = len < 1024 ? len : 1024;
    char low[1025];
    for (size_t i = 0; i < n; i++)
        low[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : (p[i] ? p[i] : ' '));
    low[n] = '\0';
    if (strstr(low, "<svg"))
        return SNIFF_TYPE_SVG;
    static const char *const tags[] = {"<!doctype", "<html", "<head", "<body", "<script", "<iframe", "<?xml",
                                       "<style",    "<img",  "<a ",   "<div",  "<title",  "<meta",   NULL};
    for (const char *const *t = tags; *t; t++)
        if (strstr(low, *t))
            return SNIFF_TYPE_HTML;
    return NULL;
}

/* Text: valid UTF-8 (a character cut by the end of the head is fine)
 * without NUL or control characters other than tab, CR, LF, FF. */
static int is_text(const unsigned char *p, size_t len)
{
    size_t i = 0;
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        i = 3;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7F)
                return 0;
            i++;
            continue;
        }
        size_t need = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 0;
        if (!need || c == 0xC0 || c == 0xC1 || c > 0xF4)
            return 0;
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= len)
                return 1; /* cut by the head's end */
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
        }
        i += need + 1;
    }
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

void sniff_type(const unsigned char *p, size_t len, const char *name, struct sniff_result *out)
{
    memset(out, 0, sizeof(*out));
    out->type = SNIFF_TYPE_UNKNOWN;
    if (len >= 24 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {
        out->type = "image/png";
        if (memcmp(p + 12, "IHDR", 4) == 0)
            set_size(out, be32(p + 16), be32(p + 20));
    } else if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
        out->type = "image/jpeg";
        jpeg_size(p, len, out);
    } else if (len >= 10 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0)) {
        out->type = "image/gif";
        set_size(out, le16(p + 6), le16(p + 8));
    } else if (len >= 16 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) {
        out->type = "image/webp";
        webp_size(p, len, out);
    } else if (len >= 5 && memcmp(p, "%PDF-", 5) == 0) {
        out->type = "application/pdf";
    } else if (len >= 4 && (memcmp(p, "PK\x03\x04", 4) == 0 || memcmp(p, "PK\x05\x06", 4) == 0)) {
        out->type = zip_kind(p, len);
    } else if (len >= 8 && memcmp(p, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0) {
        out->type = T_OLE;
    } else if (len > 0) {
        const char *markup = markup_kind(p, len);
        if (markup)
            out->type = markup;
        else if (is_text(p, len))
            out->type = name && ends_with(name, ".csv") ? "text/csv" : "text/plain";
    }
}

/* Code points a name must not carry: C0/C1 controls, bidi embeddings,
 * overrides and isolates, marks that reorder or hide text. */
static int dropped(unsigned long cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp == 0x061C || cp == 0x200B || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF ||
           (cp >= 0xFFF9 && cp <= 0xFFFB);
}

int sniff_clean_name(const char *raw, size_t n, char out[SNIFF_NAME_MAX + 1])
{
    const unsigned char *s = (const unsigned char *)raw;
    size_t o = 0, i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t need = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
        if (need == 9 || i + need >= n || (need && (c == 0xC0 || c == 0xC1 || c > 0xF4)))
            return -1;
        unsigned long cp = need ? (c & (0x3F >> need)) : c;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return -1;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        size_t len = need + 1;
        if (!dropped(cp)) {
            if (o + len > SNIFF_NAME_MAX)
                break;
            if (cp == '/' || cp == '\\')
                out[o++] = '_';
            else
                for (size_t k = 0; k < len; k++)
                    out[o++] = (char)s[i + k];
        }
        i += len;
    }
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '.'))
        o--;
    size_t start = 0;
    /* no leading dots or spaces: no hidden files, no ".." */
    while (start < o && (out[start] == ' ' || out[start] == '.'))
        start++;
    memmove(out, out + start, o - start);
    o -= start;
    if (o == 0) {
        strcpy(out, "file");
        return 0;
    }
    out[o] = '\0';
    return 0;
}
