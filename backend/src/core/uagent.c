#include "core/uagent.h"

#include <stdio.h>
#include <string.h>

/* A browser is named by the first row whose token is in the UA. The order
 * is the point: a UA lists every engine it claims to be compatible with, so
 * rows go from the most specific to the most generic.
 *   - WeChat's in-app browser first: its UA is a whole Chrome (Android) or
 *     Safari (iOS) UA plus "MicroMessenger/".
 *   - Then the Chromium-based browsers that add their own token to Chrome's
 *     UA: Edge, Opera, Samsung Internet, Yandex, UC Browser.
 *   - Firefox (no Chrome in it, but FxiOS says Safari).
 *   - Chrome, which says "Safari/" too; so Safari comes after it.
 *   - Internet Explorer (no overlap; MSIE for <= 10, Trident + rv: for 11).
 *   - Safari last: "Safari/" with "Version/" (Chrome has no "Version/";
 *     Android WebViews have both but matched Chrome above).
 * version: the token after which the version stands (NULL: token itself).
 * needs: a second token that must also be present (NULL: none). */
struct browser_rule {
    const char *token, *name, *version, *needs;
};

static const struct browser_rule browsers[] = {
    {"MicroMessenger/", "WeChat", NULL, NULL},
    {"Edg/", "Edge", NULL, NULL},
    {"EdgA/", "Edge", NULL, NULL},
    {"EdgiOS/", "Edge", NULL, NULL},
    {"Edge/", "Edge", NULL, NULL}, /* EdgeHTML, before Chromium (2015-2020) */
    {"OPR/", "Opera", NULL, NULL},
    {"OPT/", "Opera", NULL, NULL}, /* Opera Touch on iOS */
    {"OPiOS/", "Opera", NULL, NULL},
    {"SamsungBrowser/", "Samsung Internet", NULL, NULL},
    {"YaBrowser/", "Yandex", NULL, NULL},
    {"UCBrowser/", "UC Browser", NULL, NULL},
    {"Firefox/", "Firefox", NULL, NULL},
    {"FxiOS/", "Firefox", NULL, NULL},
    {"HeadlessChrome/", "Chrome", NULL, NULL},
    {"CriOS/", "Chrome", NULL, NULL},
    {"Chromium/", "Chrome", NULL, NULL},
    {"Chrome/", "Chrome", NULL, NULL},
    {"MSIE ", "Internet Explorer", NULL, NULL},
    {"Trident/", "Internet Explorer", "rv:", NULL},
    {"Safari/", "Safari", "Version/", "Version/"},
};

/* Known crawlers by name; then anything that calls itself a bot, crawler or
 * spider. Case-sensitive "bot"/"Bot" (not "BOT"): the phone maker CUBOT
 * writes its name in capitals in Android UAs. */
static const struct browser_rule bots[] = {
    {"Googlebot/", "Googlebot", NULL, NULL},
    {"bingbot/", "Bingbot", NULL, NULL},
    {"YandexBot/", "YandexBot", NULL, NULL},
    {"DuckDuckBot", "DuckDuckBot", NULL, NULL},
    {"bot", "", NULL, NULL},
    {"Bot", "", NULL, NULL},
    {"crawler", "", NULL, NULL},
    {"Crawler", "", NULL, NULL},
    {"spider", "", NULL, NULL},
    {"Spider", "", NULL, NULL},
};

/* Operating systems, most specific first: HarmonyOS 2-3 UAs also say
 * Android; iPhone and iPad UAs say "like Mac OS X"; Android UAs say Linux.
 * parts: how many version parts follow the token and are kept (Apple writes
 * "17_2", the rest "4.4": both read "17.2", "4.4"); 0: no version there.
 * Windows is mapped from its NT number (windows_name). */
struct os_rule {
    const char *token, *name;
    int parts;
};

static const struct os_rule systems[] = {
    {"OpenHarmony ", "HarmonyOS", 2},
    {"HarmonyOS ", "HarmonyOS", 2},
    {"HarmonyOS", "HarmonyOS", 0},
    {"Windows NT ", "Windows", 2},
    {"iPhone OS ", "iOS", 2},
    {"iPad; CPU OS ", "iPadOS", 2},
    {"iPod", "iOS", 0},
    {"Mac OS X ", "macOS", 2},
    {"CrOS ", "ChromeOS", 0},
    {"Android ", "Android", 2},
    {"Android", "Android", 0},
    {"Linux", "Linux", 0},
};

/* strlen, capped: a 2,000-byte or a 1 MB header is read no further than
 * UAGENT_MAX_LEN. Nothing but version digits and our own names is copied
 * out of the UA, so its bytes need no other check. */
static size_t bounded_len(const char *s)
{
    size_t n = 0;
    while (n < UAGENT_MAX_LEN && s[n])
        n++;
    return n;
}

/* strstr within the first n bytes of s. */
static const char *find(const char *s, size_t n, const char *token)
{
    size_t t = strlen(token);
    for (size_t i = 0; t <= n && i <= n - t; i++)
        if (s[i] == token[0] && memcmp(s + i, token, t) == 0)
            return s + i;
    return NULL;
}

/* Copies the version at p (ending at end): up to parts dot- or
 * underscore-separated numbers ("17_2_1", 2 -> "17.2"; "120.0.1", 1 ->
 * "120"). "" when p does not start with a digit. */
static void copy_version(const char *p, const char *end, int parts, char *out, size_t outlen)
{
    size_t w = 0;
    int part = 1;
    out[0] = '\0';
    while (p < end && w + 1 < outlen) {
        if (*p >= '0' && *p <= '9') {
            out[w++] = *p++;
        } else if ((*p == '.' || *p == '_') && part < parts && p + 1 < end && p[1] >= '0' && p[1] <= '9' && w > 0) {
            out[w++] = '.';
            p++;
            part++;
        } else {
            break;
        }
    }
    out[w] = '\0';
}

/* "Windows NT 10.0" is Windows 10 or 11 (11 reports 10.0 too). */
static void windows_name(const char *nt, char *out, size_t outlen)
{
    static const char *const map[][2] = {{"10.0", "10"},   {"6.3", "8.1"}, {"6.2", "8"}, {"6.1", "7"},
                                         {"6.0", "Vista"}, {"5.1", "XP"},  {"5.2", "XP"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(nt, map[i][0]) == 0) {
            snprintf(out, outlen, "%s", map[i][1]);
            return;
        }
    }
    out[0] = '\0';
}

/* The first rule of table whose token (and needs) is in ua; its version
 * into version (major only). NULL when none matches. */
static const struct browser_rule *match_browser(const struct browser_rule *table, size_t count, const char *ua,
                                                size_t n, char *version, size_t versionlen)
{
    for (size_t i = 0; i < count; i++) {
        const struct browser_rule *r = &table[i];
        const char *at = find(ua, n, r->token);
        if (!at || (r->needs && !find(ua, n, r->needs)))
            continue;
        const char *v = r->version ? find(ua, n, r->version) : at;
        if (v)
            copy_version(v + strlen(r->version ? r->version : r->token), ua + n, 1, version, versionlen);
        return r;
    }
    return NULL;
}

static void parse_os(const char *ua, size_t n, struct uagent *out)
{
    for (size_t i = 0; i < sizeof(systems) / sizeof(systems[0]); i++) {
        const struct os_rule *r = &systems[i];
        const char *at = find(ua, n, r->token);
        if (!at)
            continue;
        snprintf(out->os, sizeof(out->os), "%s", r->name);
        if (r->parts > 0)
            copy_version(at + strlen(r->token), ua + n, r->parts, out->os_version, sizeof(out->os_version));
        if (strcmp(r->name, "Windows") == 0) {
            char nt[16];
            snprintf(nt, sizeof(nt), "%s", out->os_version);
            windows_name(nt, out->os_version, sizeof(out->os_version));
        }
        return;
    }
}

/* Tablets first (an iPad or Android tablet must not fall through to the
 * "Mobile" test: Android tablets are recognised by its absence), then
 * phones, else desktop. */
static const char *device_of(const char *ua, size_t n)
{
    int android = find(ua, n, "Android") != NULL;
    int mobi = find(ua, n, "Mobi") != NULL;
    if (find(ua, n, "iPad") || find(ua, n, "Tablet;") || find(ua, n, "(Tablet") || (android && !mobi))
        return "tablet";
    if (mobi || find(ua, n, "iPhone") || find(ua, n, "iPod") || find(ua, n, "(Phone;") || find(ua, n, "Windows Phone"))
        return "mobile";
    return "desktop";
}

void uagent_parse(const char *ua, struct uagent *out)
{
    char version[sizeof(out->browser_version)] = "";
    const struct browser_rule *r;
    size_t n;

    memset(out, 0, sizeof(*out));
    if (!ua)
        return;
    n = bounded_len(ua);
    while (n > 0 && (ua[0] == ' ' || ua[0] == '\t')) {
        ua++;
        n--;
    }
    if (n == 0)
        return;
    r = match_browser(bots, sizeof(bots) / sizeof(bots[0]), ua, n, version, sizeof(version));
    if (r) {
        snprintf(out->browser, sizeof(out->browser), "%s", r->name);
        snprintf(out->browser_version, sizeof(out->browser_version), "%s", r->name[0] ? version : "");
        snprintf(out->device, sizeof(out->device), "bot");
        return;
    }
    r = match_browser(browsers, sizeof(browsers) / sizeof(browsers[0]), ua, n, version, sizeof(version));
    if (r) {
        snprintf(out->browser, sizeof(out->browser), "%s", r->name);
        snprintf(out->browser_version, sizeof(out->browser_version), "%s", version);
    }
    parse_os(ua, n, out);
    snprintf(out->device, sizeof(out->device), "%s", device_of(ua, n));
}
