#include "core/peer.h"

#include "core/config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int peer_in_list(const char *ip, const char *list)
{
    size_t n = strlen(ip);
    while (*list) {
        size_t len = strcspn(list, ",");
        if (len == n && strncmp(list, ip, n) == 0)
            return 1;
        list += len;
        if (*list == ',')
            list++;
    }
    return 0;
}

void peer_client_address(const char *trusted, const char *peer, const char *xff, char *out, size_t outlen)
{
    char item[PEER_ADDR_MAX];
    snprintf(out, outlen, "%s", peer);
    if (!trusted[0] || !xff || !peer_in_list(peer, trusted))
        return;
    size_t end = strlen(xff);
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
            a++;
        while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
            b--;
        if (b - a == 0 || b - a >= sizeof(item))
            return;
        memcpy(item, xff + a, b - a);
        item[b - a] = '\0';
        if (!config_is_ip(item))
            return;
        snprintf(out, outlen, "%s", item);
        if (!peer_in_list(item, trusted))
            return;
        end = start > 0 ? start - 1 : 0;
    }
}

int peer_origin_is_self(const char *origin, const char *public_origin, const char *host, int is_tls)
{
    char self[300];
    if (!origin)
        return 0;
    if (strcmp(origin, public_origin) == 0)
        return 1;
    if (!host || strlen(host) > 255)
        return 0;
    snprintf(self, sizeof(self), "%s://%s", is_tls ? "https" : "http", host);
    return strcmp(origin, self) == 0;
}

void peer_address_to_store(const char *ip, enum ip_storage mode, char *out, size_t outlen)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];
    const char *result = "";

    if (!ip || mode == IP_STORE_NONE)
        goto done;
    if (inet_pton(AF_INET, ip, a) == 1) {
        if (mode == IP_STORE_FULL) {
            result = ip;
            goto done;
        }
        a[3] = 0;
        if (inet_ntop(AF_INET, a, text, sizeof(text)))
            result = text;
    } else if (inet_pton(AF_INET6, ip, a) == 1) {
        if (mode == IP_STORE_FULL) {
            result = ip;
            goto done;
        }
        if (memcmp(a, mapped, sizeof(mapped)) == 0) {
            a[15] = 0;
            if (inet_ntop(AF_INET, a + 12, text, sizeof(text)))
                result = text;
        } else {
            memset(a + 6, 0, 10);
            if (inet_ntop(AF_INET6, a, text, sizeof(text)))
                result = text;
        }
    }
done:
    /* Never a cut address: one that does not fit is not stored at all. */
    if (outlen > 0 && snprintf(out, outlen, "%s", result) >= (int)outlen)
        out[0] = '\0';
}
