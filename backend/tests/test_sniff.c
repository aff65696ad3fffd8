/* Unit tests for sniff: types from bytes (never from the name), image
 * sizes from headers, markup recognised whatever it claims to be, and the
 * cleaning of file names. */
#include "core/sniff.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

static struct sniff_result sniff(const void *bytes, size_t n, const char *name)
{
    struct sniff_result r;
    sniff_type(bytes, n, name, &r);
    return r;
}

static void test_images_and_sizes(void **state)
{
    (void)state;
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                        'I',  'H', 'D', 'R', 0,    0,    2,    0x80, 0, 0, 1, 0xE0};
    struct sniff_result r = sniff(png, sizeof(png), "photo.jpg");
    assert_string_equal(r.type, "image/png");
    assert_int_equal(r.width, 640);
    assert_int_equal(r.height, 480);

    static const unsigned char gif[] = {'G', 'I', 'F', '8', '9', 'a', 0x20, 0x03, 0x58, 0x02};
    r = sniff(gif, sizeof(gif), "x");
    assert_string_equal(r.type, "image/gif");
    assert_int_equal(r.width, 800);
    assert_int_equal(r.height, 600);

    /* JPEG: an APP0 segment, then SOF0 with height 300, width 400. */
    static const unsigned char jpg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0,    16, 'J', 'F', 'I',  'F',  0, 1,
                                        1,    0,    0,    1,    0,    1,  0,   0,   0xFF, 0xC0, 0, 17,
                                        8,    0x01, 0x2C, 0x01, 0x90, 3,  0,   0,   0,    0,    0, 0};
    r = sniff(jpg, sizeof(jpg), "x");
    assert_string_equal(r.type, "image/jpeg");
    assert_int_equal(r.width, 400);
    assert_int_equal(r.height, 300);

    /* A PNG header without its IHDR in view: the type, no size. */
    r = sniff(png, 10, "x");
    assert_string_equal(r.type, SNIFF_TYPE_UNKNOWN);
    assert_true(sniff_is_raster("image/webp"));
    assert_false(sniff_is_raster(SNIFF_TYPE_SVG));
}

static void test_documents(void **state)
{
    (void)state;
    assert_string_equal(sniff("%PDF-1.7\n", 9, "a.txt").type, "application/pdf");
    static const unsigned char ole[] = {0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0};
    assert_string_equal(sniff(ole, sizeof(ole), "a.doc").type, "application/x-ole-storage");
    /* A zip whose entries are [Content_Types].xml and word/document.xml. */
    unsigned char docx[200] = {0};
    memcpy(docx, "PK\x03\x04", 4);
    docx[26] = 19;
    memcpy(docx + 30, "[Content_Types].xml", 19);
    memcpy(docx + 60, "PK\x03\x04", 4);
    docx[86] = 17;
    memcpy(docx + 90, "word/document.xml", 17);
    assert_string_equal(sniff(docx, sizeof(docx), "a.zip").type,
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    docx[90] = 'x'; /* no longer word/ */
    assert_string_equal(sniff(docx, sizeof(docx), "a.docx").type, "application/zip");
}

static void test_text_and_markup(void **state)
{
    (void)state;
    assert_string_equal(sniff("a,b\n1,2\n", 8, "data.CSV").type, "text/csv");
    assert_string_equal(sniff("hello \xE4\xBD\xA0\xE5\xA5\xBD\n", 13, "notes.csv.exe").type, "text/plain");
    assert_string_equal(sniff("bin\0ary", 7, "a.txt").type, SNIFF_TYPE_UNKNOWN);
    assert_string_equal(sniff("\xFF\xFE junk", 7, "a.txt").type, SNIFF_TYPE_UNKNOWN);
    /* Markup is never text or an image, whatever the name says. */
    const char *svg = "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>x</script></svg>";
    assert_string_equal(sniff(svg, strlen(svg), "cat.png").type, SNIFF_TYPE_SVG);
    const char *html = "\xEF\xBB\xBF  <!-- hi --><HTML><body onload=alert(1)>";
    assert_string_equal(sniff(html, strlen(html), "cat.png").type, SNIFF_TYPE_HTML);
    assert_string_equal(sniff("x <script>alert(1)</script>", 27, "a.txt").type, SNIFF_TYPE_HTML);
    /* A text a character cut at the head's end is still text. */
    assert_string_equal(sniff("ab\xE4\xBD", 4, "a.txt").type, "text/plain");
}

static void test_catalogue(void **state)
{
    (void)state;
    assert_true(sniff_known("image/png"));
    assert_true(sniff_known(SNIFF_TYPE_SVG));
    assert_false(sniff_known(SNIFF_TYPE_HTML));
    assert_true(sniff_known(SNIFF_TYPE_UNKNOWN));
    assert_false(sniff_known("image/png; charset=x"));
}

static void test_clean_name(void **state)
{
    (void)state;
    char out[SNIFF_NAME_MAX + 1];
    assert_int_equal(sniff_clean_name("../../etc/passwd", 16, out), 0);
    assert_string_equal(out, "_.._etc_passwd");
    assert_int_equal(sniff_clean_name("a\0b.png", 7, out), 0);
    assert_string_equal(out, "ab.png");
    assert_int_equal(sniff_clean_name("C:\\x\\evil.exe", 13, out), 0);
    assert_string_equal(out, "C:_x_evil.exe");
    /* RLO makes "invoice_[RLO]fdp.exe" look like "invoice_exe.pdf". */
    assert_int_equal(sniff_clean_name("invoice_\xE2\x80\xAE"
                                      "fdp.exe",
                                      18, out),
                     0);
    assert_string_equal(out, "invoice_fdp.exe");
    assert_int_equal(sniff_clean_name("  .htaccess. ", 13, out), 0);
    assert_string_equal(out, "htaccess");
    assert_int_equal(sniff_clean_name("\x01\x7f...", 5, out), 0);
    assert_string_equal(out, "file");
    assert_int_equal(sniff_clean_name("\xE6\x8A\xA5\xE5\x91\x8A.pdf", 10, out), 0);
    assert_string_equal(out, "\xE6\x8A\xA5\xE5\x91\x8A.pdf");
    assert_int_equal(sniff_clean_name("bad\xFF.txt", 8, out), -1);
    assert_int_equal(sniff_clean_name("cut\xE6\x8A", 5, out), -1);
    /* Long names are cut on a character boundary. */
    char longname[600];
    for (int i = 0; i < 200; i++)
        memcpy(longname + 3 * i, "\xE6\x8A\xA5", 3);
    assert_int_equal(sniff_clean_name(longname, 600, out), 0);
    assert_int_equal(strlen(out), 255);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_images_and_sizes), cmocka_unit_test(test_documents),
        cmocka_unit_test(test_text_and_markup),  cmocka_unit_test(test_catalogue),
        cmocka_unit_test(test_clean_name),
    };
    return cmocka_run_group_tests_name("sniff", tests, NULL, NULL);
}
