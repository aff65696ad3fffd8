/* uagent: browser, operating system and kind of device from a User-Agent.
 *
 * Owns the tables of User-Agent tokens that name what a visitor uses, for
 * the agent console's "Chrome 120 on Windows 10, desktop" line. A best
 * effort on a header the client writes as it likes: nothing is decided on
 * it but what is shown. Pure and table-driven: to teach it a browser, add
 * a row (order matters, see uagent.c).
 *
 * Decisions: HeadlessChrome, Chromium, CriOS (Chrome on iOS) and Android
 * WebViews report as "Chrome" (the same engine and release train; telling
 * automation apart is not this module's job); Edge, Opera, Samsung
 * Internet, Yandex, UC Browser and WeChat are named as themselves although
 * their UAs also say Chrome and Safari. iPad is "iPadOS", iPhone and iPod
 * "iOS"; an iPad in desktop mode sends a Mac UA and reads as macOS, desktop
 * (the UA is identical). Windows 11 reports "Windows NT 10.0" like 10:
 * both read "10". macOS 11 and later freeze "10_15_7" in the UA: versions
 * read "10.15". Bots (Googlebot, Bingbot, anything saying bot, crawler or
 * spider) get device "bot" and no operating system. */
#ifndef PARLEY_UAGENT_H
#define PARLEY_UAGENT_H

struct uagent {
    char browser[24];         /* "Chrome", "Safari", "Googlebot", ... "" unknown */
    char browser_version[16]; /* major only, e.g. "120"; "" unknown */
    char os[24];              /* "Windows", "macOS", "iOS", "iPadOS", "Android", "Linux", "ChromeOS", "HarmonyOS" */
    char os_version[16];      /* "10", "10.15", "17.2", "14"; "" unknown */
    char device[8];           /* "desktop", "mobile", "tablet", "bot"; "" for an empty UA */
};

/* Fills out from ua (NULL is an empty UA). Never fails; unknown parts are
 * "", device defaults to "desktop" unless the UA is empty. Reads at most
 * UAGENT_MAX_LEN bytes of ua (real UAs are < 500). */
void uagent_parse(const char *ua, struct uagent *out);

#define UAGENT_MAX_LEN 1024

#endif
