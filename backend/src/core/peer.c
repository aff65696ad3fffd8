#include "core/peer.h"

#include "core/config.h"

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
