/* Unit tests for uagent: a table of real User-Agent strings (current
 * Chrome, Edge, Firefox and Safari on each desktop OS, Android phones and
 * tablets, iPhone and iPad, Samsung Internet, Opera, Yandex, UC Browser,
 * WeChat, IE 11, HarmonyOS, headless Chrome, crawlers) and hostile input:
 * empty, NULL, garbage, a 2,000-byte string. */
#include "core/uagent.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

struct ua_case {
    const char *ua;
    const char *browser, *browser_version, *os, *os_version, *device;
};

static const struct ua_case cases[] = {
    /* Desktop */
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36",
     "Chrome", "120", "Windows", "10", "desktop"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36 Edg/131.0.0.0",
     "Edge", "131", "Windows", "10", "desktop"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "133", "Windows",
     "10", "desktop"},
    {"Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", "Internet Explorer", "11", "Windows", "7",
     "desktop"},
    {"Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0)", "Internet Explorer", "10", "Windows", "8",
     "desktop"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
     "Safari/537.36 OPR/115.0.0.0",
     "Opera", "115", "Windows", "10", "desktop"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
     "YaBrowser/24.6.0.0 Safari/537.36",
     "Yandex", "24", "Windows", "10", "desktop"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 "
     "Safari/605.1.15",
     "Safari", "17", "macOS", "10.15", "desktop"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36",
     "Chrome", "131", "macOS", "10.15", "desktop"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "133", "macOS",
     "10.15", "desktop"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36 Edg/131.0.0.0",
     "Edge", "131", "macOS", "10.15", "desktop"},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome",
     "131", "Linux", "", "desktop"},
    {"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "133", "Linux", "",
     "desktop"},
    {"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
     "Chrome", "131", "ChromeOS", "", "desktop"},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.33 "
     "Safari/537.36",
     "Chrome", "131", "Linux", "", "desktop"},
    /* Phones */
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 "
     "Mobile/15E148 Safari/604.1",
     "Safari", "17", "iOS", "17.2", "mobile"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
     "Chrome", "120", "iOS", "17.2", "mobile"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 "
     "Mobile/15E148 Safari/605.1.15",
     "Firefox", "121", "iOS", "17.2", "mobile"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
     "EdgiOS/120.2210.150 Mobile/15E148 Safari/605.1.15",
     "Edge", "120", "iOS", "17.2", "mobile"},
    {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile "
     "Safari/537.36",
     "Chrome", "131", "Android", "14", "mobile"},
    {"Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", "Firefox", "133", "Android", "14",
     "mobile"},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile "
     "Safari/537.36 EdgA/131.0.0.0",
     "Edge", "131", "Android", "10", "mobile"},
    {"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
     "Samsung Internet", "23", "Android", "14", "mobile"},
    {"Mozilla/5.0 (Linux; U; Android 4.4.2; en-US; HM NOTE 1W Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) "
     "Version/4.0 UCBrowser/11.0.5.850 U3/0.8.0 Mobile Safari/534.30",
     "UC Browser", "11", "Android", "4.4", "mobile"},
    {"Mozilla/5.0 (Linux; Android 13; V2148A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 "
     "MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
     "WeChat", "8", "Android", "13", "mobile"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
     "MicroMessenger/8.0.44(0x18002c2e) NetType/WIFI Language/zh_CN",
     "WeChat", "8", "iOS", "16.6", "mobile"},
    {"Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240105.004; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36",
     "Chrome", "120", "Android", "14", "mobile"},
    {"Mozilla/5.0 (Phone; OpenHarmony 4.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 "
     "ArkWeb/4.1.6.1 Mobile HuaweiBrowser/5.0.4.300",
     "Chrome", "114", "HarmonyOS", "4.1", "mobile"},
    {"Mozilla/5.0 (Linux; Android 10; HarmonyOS; ELS-AN00; HMSCore 6.11.0.302) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/99.0.4844.88 HuaweiBrowser/14.0.0.300 Mobile Safari/537.36",
     "Chrome", "99", "HarmonyOS", "", "mobile"},
    /* Tablets */
    {"Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 "
     "Mobile/15E148 Safari/604.1",
     "Safari", "17", "iPadOS", "17.2", "tablet"},
    {"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
     "Chrome", "131", "Android", "13", "tablet"},
    {"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 "
     "Chrome/115.0.0.0 Safari/537.36",
     "Samsung Internet", "23", "Android", "13", "tablet"},
    {"Mozilla/5.0 (Android 14; Tablet; rv:133.0) Gecko/133.0 Firefox/133.0", "Firefox", "133", "Android", "14",
     "tablet"},
    /* Crawlers: named ones keep their version, and their OS is not reported. */
    {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", "2", "", "", "bot"},
    {"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     "Googlebot", "2", "", "", "bot"},
    {"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "Bingbot", "2", "", "", "bot"},
    {"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "", "", "", "", "bot"},
    {"Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)", "", "", "", "", "bot"},
    {"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php) crawler", "", "", "", "", "bot"},
    /* Not browsers at all */
    {"curl/8.5.0", "", "", "", "", "desktop"},
    {"!!@@##$$%%^^&&**(())__++", "", "", "", "", "desktop"},
    {"Chrome/", "Chrome", "", "", "", "desktop"},
    {"Mozilla/5.0 (Windows NT 99.0) Firefox/x", "Firefox", "", "Windows", "", "desktop"},
    {"", "", "", "", "", ""},
    {"   ", "", "", "", "", ""},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct ua_case *c = &cases[i];
        struct uagent u;
        memset(&u, 'x', sizeof(u));
        uagent_parse(c->ua, &u);
        if (strcmp(u.browser, c->browser) || strcmp(u.browser_version, c->browser_version) || strcmp(u.os, c->os) ||
            strcmp(u.os_version, c->os_version) || strcmp(u.device, c->device))
            fail_msg("case %zu \"%.60s...\": got %s|%s|%s|%s|%s, want %s|%s|%s|%s|%s", i, c->ua, u.browser,
                     u.browser_version, u.os, u.os_version, u.device, c->browser, c->browser_version, c->os,
                     c->os_version, c->device);
    }
}

static void test_null_and_huge(void **state)
{
    static char big[2001];
    struct uagent u;
    (void)state;
    uagent_parse(NULL, &u);
    assert_string_equal(u.device, "");
    assert_string_equal(u.browser, "");
    /* 2,000 bytes: a real UA padded with junk keeps what is within the
     * first UAGENT_MAX_LEN bytes; a token beyond them is not read. */
    memset(big, 'A', sizeof(big) - 1);
    memcpy(big, "Mozilla/5.0 (Windows NT 10.0) Firefox/133.0 ", 44);
    memcpy(big + 1900, "Googlebot/2.1", 13);
    uagent_parse(big, &u);
    assert_string_equal(u.browser, "Firefox");
    assert_string_equal(u.browser_version, "133");
    assert_string_equal(u.os, "Windows");
    assert_string_equal(u.device, "desktop");
    /* All digits: the version is cut to its field, never overflows. */
    char digits[200];
    snprintf(digits, sizeof(digits), "Chrome/%0150d", 7);
    uagent_parse(digits, &u);
    assert_string_equal(u.browser, "Chrome");
    assert_int_equal(strlen(u.browser_version), sizeof(u.browser_version) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_null_and_huge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
