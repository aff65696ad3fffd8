'use strict';
// A small MaxMind DB (.mmdb) writer, for test fixtures only: Parley's tests
// build their own tiny geolocation database instead of depending on a real
// (large, monthly changing) one.
//
//   const { writeMmdb } = require('./mmdb');
//   writeMmdb('/tmp/x.mmdb', {
//     ipVersion: 6,                      // 4 or 6 (default 6)
//     databaseType: 'Parley-Test-City',  // metadata database_type
//     description: 'test data',          // or { en: '...', de: '...' }
//     languages: ['en'],                 // optional
//     buildEpoch: 1767225600,            // optional, seconds (default: fixed, so output is reproducible)
//     networks: [{ cidr: '203.0.113.0/24', data: { country: { iso_code: 'JP' } } }, ...],
//   });
//
//   node tests/helpers/mmdb.js OUT.mmdb   writes the standard fixture (STANDARD_NETWORKS
//                                         below) that the C unit tests and the integration
//                                         tests (PARLEY_GEOIP_DB) use; `make` builds it as
//                                         build/test/geo-fixture.mmdb.
//
// The format (https://maxmind.github.io/MaxMind-DB/), as written here:
//   1. the search tree: a binary trie over the address bits, one node per
//      byte group of two records (left = bit 0, right = bit 1); a record
//      holds a node number (< node_count), node_count for "no data", or
//      node_count + 16 + offset into the data section for a hit. Records are
//      24 bits (6 bytes a node) when everything fits, else 28 bits (7 bytes:
//      the middle byte's high nibble belongs to the left record).
//   2. 16 zero bytes, the data section separator.
//   3. the data section: each network's value, encoded with a control byte
//      (type in the top 3 bits, types above 7 in a following byte as type - 7;
//      size in the low 5 bits, 29/30/31 meaning 1/2/3 more size bytes) —
//      maps (size = pairs), utf8 strings, doubles (8 bytes), uint16/uint32/
//      uint64 (minimal big-endian bytes), arrays, booleans. No pointers: each
//      network's value is written whole, which is fine at fixture size.
//   4. "\xAB\xCD\xEFMaxMind.com" and the metadata map (node_count,
//      record_size, ip_version, database_type, languages,
//      binary_format_major/minor_version, build_epoch, description).
// IPv4 networks in an IPv6 tree are placed under ::/96 (::a.b.c.d), as
// MaxMind does; libmaxminddb finds them there for IPv4 lookups. (MaxMind
// also aliases ::ffff:0:0/96 and 2002::/16 to that subtree; this writer does
// not, and Parley looks IPv4-mapped addresses up as IPv4 anyway.)
// Networks must not overlap.

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

// Typed values for the fields whose type the format fixes (metadata);
// plain JS numbers are written as uint32 when whole and in range, else double.
const uint16 = (value) => ({ $type: 'uint16', value });
const uint32 = (value) => ({ $type: 'uint32', value });
const uint64 = (value) => ({ $type: 'uint64', value: BigInt(value) });

const TYPE = { utf8: 2, double: 3, uint16: 5, uint32: 6, map: 7, uint64: 9, array: 11, boolean: 14 };

function control(type, size) {
  let head;
  let ext;
  if (size < 29) {
    head = size;
    ext = [];
  } else if (size < 29 + 256) {
    head = 29;
    ext = [size - 29];
  } else if (size < 285 + 65536) {
    head = 30;
    ext = [(size - 285) >> 8, (size - 285) & 0xff];
  } else {
    const s = size - 65821;
    head = 31;
    ext = [(s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff];
  }
  const bytes = type <= 7 ? [(type << 5) | head] : [head, type - 7];
  return Buffer.from([...bytes, ...ext]);
}

function uintBytes(value) {
  let v = BigInt(value);
  const out = [];
  while (v > 0n) {
    out.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return Buffer.from(out);
}

function encode(value) {
  if (value && typeof value === 'object' && value.$type) {
    const bytes = uintBytes(value.value);
    return Buffer.concat([control(TYPE[value.$type], bytes.length), bytes]);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(TYPE.utf8, bytes.length), bytes]);
  }
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 0xffffffff) return encode(uint32(value));
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(value);
    return Buffer.concat([control(TYPE.double, 8), bytes]);
  }
  if (typeof value === 'boolean') return control(TYPE.boolean, value ? 1 : 0);
  if (Array.isArray(value)) return Buffer.concat([control(TYPE.array, value.length), ...value.map(encode)]);
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    return Buffer.concat([control(TYPE.map, keys.length), ...keys.flatMap((k) => [encode(k), encode(value[k])])]);
  }
  throw new Error(`mmdb: cannot encode ${typeof value}`);
}

// cidr -> { bits: array of 0/1 of the prefix, in the tree's address width }
function prefixBits(cidr, ipVersion) {
  const [addr, lenText] = cidr.split('/');
  const family = net.isIP(addr);
  if (!family) throw new Error(`mmdb: bad address in ${cidr}`);
  let bytes;
  let len = Number(lenText ?? (family === 4 ? 32 : 128));
  if (family === 4) {
    bytes = addr.split('.').map(Number);
    if (ipVersion === 6) {
      bytes = [...new Array(12).fill(0), ...bytes];
      len += 96;
    }
  } else {
    if (ipVersion === 4) throw new Error(`mmdb: IPv6 network ${cidr} in an IPv4 tree`);
    bytes = ipv6Bytes(addr);
  }
  const width = ipVersion === 6 ? 128 : 32;
  if (!Number.isInteger(len) || len < 1 || len > width) throw new Error(`mmdb: bad prefix in ${cidr}`);
  const bits = [];
  for (let i = 0; i < len; i++) bits.push((bytes[i >> 3] >> (7 - (i & 7))) & 1);
  return bits;
}

function ipv6Bytes(text) {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const part = (s) => (s ? s.split(':') : []);
  let groups = part(head);
  if (tail !== null) {
    const rest = part(tail);
    groups = [...groups, ...new Array(8 - groups.length - rest.length).fill('0'), ...rest];
  }
  const last = groups[groups.length - 1];
  if (last.includes('.')) {
    const v4 = last.split('.').map(Number);
    groups.splice(groups.length - 1, 1, ((v4[0] << 8) | v4[1]).toString(16), ((v4[2] << 8) | v4[3]).toString(16));
  }
  return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

function writeRecords(out, at, left, right, recordSize) {
  if (recordSize === 24) {
    out.writeUIntBE(left, at, 3);
    out.writeUIntBE(right, at + 3, 3);
  } else {
    out.writeUIntBE(left & 0xffffff, at, 3);
    out[at + 3] = ((left >> 24) << 4) | (right >> 24);
    out.writeUIntBE(right & 0xffffff, at + 4, 3);
  }
}

function buildMmdb(opts) {
  const ipVersion = opts.ipVersion ?? 6;
  // The trie: nodes[i] = [left, right], each { node: n } | { data: offset } | null.
  const nodes = [[null, null]];
  const data = [];
  let dataSize = 0;
  for (const { cidr, data: value } of opts.networks) {
    const encoded = encode(value);
    const offset = dataSize;
    data.push(encoded);
    dataSize += encoded.length;
    const bits = prefixBits(cidr, ipVersion);
    let n = 0;
    for (let i = 0; i < bits.length; i++) {
      const slot = nodes[n][bits[i]];
      if (i === bits.length - 1) {
        if (slot) throw new Error(`mmdb: ${cidr} overlaps another network`);
        nodes[n][bits[i]] = { data: offset };
      } else if (slot && slot.node !== undefined) {
        n = slot.node;
      } else if (slot) {
        throw new Error(`mmdb: ${cidr} is inside another network`);
      } else {
        nodes.push([null, null]);
        nodes[n][bits[i]] = { node: nodes.length - 1 };
        n = nodes.length - 1;
      }
    }
  }
  const nodeCount = nodes.length;
  const recordSize = nodeCount + 16 + dataSize < 2 ** 24 ? 24 : 28;
  const nodeBytes = recordSize === 24 ? 6 : 7;
  const tree = Buffer.alloc(nodeCount * nodeBytes);
  const value = (r) => (r === null ? nodeCount : r.node !== undefined ? r.node : nodeCount + 16 + r.data);
  nodes.forEach(([l, r], i) => writeRecords(tree, i * nodeBytes, value(l), value(r), recordSize));

  const description = typeof opts.description === 'string' ? { en: opts.description } : (opts.description ?? {});
  const metadata = encode({
    node_count: uint32(nodeCount),
    record_size: uint16(recordSize),
    ip_version: uint16(ipVersion),
    database_type: opts.databaseType ?? 'Parley-Test',
    languages: opts.languages ?? ['en'],
    binary_format_major_version: uint16(2),
    binary_format_minor_version: uint16(0),
    build_epoch: uint64(opts.buildEpoch ?? 1767225600),
    description,
  });
  const marker = Buffer.from([0xab, 0xcd, 0xef, ...Buffer.from('MaxMind.com')]);
  return Buffer.concat([tree, Buffer.alloc(16), ...data, marker, metadata]);
}

function writeMmdb(file, opts) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, buildMmdb(opts));
  fs.renameSync(tmp, file);
}

// The standard fixture. Integration tests rely on exactly these records.
const STANDARD_NETWORKS = [
  {
    // MaxMind GeoIP2-City shape.
    cidr: '203.0.113.0/24',
    data: {
      city: { geoname_id: 1850147, names: { en: 'Tokyo', ja: '東京' } },
      continent: { code: 'AS', geoname_id: 6255147, names: { en: 'Asia' } },
      country: { geoname_id: 1861060, iso_code: 'JP', names: { en: 'Japan' } },
      location: { accuracy_radius: 50, latitude: 35.6895, longitude: 139.6917, time_zone: 'Asia/Tokyo' },
      registered_country: { geoname_id: 1861060, iso_code: 'JP', names: { en: 'Japan' } },
      subdivisions: [{ geoname_id: 1850144, iso_code: '13', names: { en: 'Tokyo' } }],
    },
  },
  {
    // The flat shape of the npm @ip-location-db/*-mmdb packages.
    cidr: '198.51.100.0/24',
    data: {
      city: 'Munich',
      country_code: 'DE',
      latitude: 48.1374,
      longitude: 11.5755,
      postcode: '',
      state1: 'Bavaria',
      state2: '',
      timezone: 'Europe/Berlin',
    },
  },
  {
    // GeoIP2-City shape again, with non-ASCII names (UTF-8).
    cidr: '2001:db8:1::/48',
    data: {
      city: { geoname_id: 3448439, names: { en: 'São Paulo', pt: 'São Paulo' } },
      continent: { code: 'SA', geoname_id: 6255150, names: { en: 'South America' } },
      country: { geoname_id: 3469034, iso_code: 'BR', names: { en: 'Brazil' } },
      location: { accuracy_radius: 100, latitude: -23.5475, longitude: -46.6361, time_zone: 'America/Sao_Paulo' },
      subdivisions: [{ geoname_id: 3448433, iso_code: 'SP', names: { en: 'São Paulo' } }],
    },
  },
];

function writeStandardFixture(file) {
  writeMmdb(file, {
    ipVersion: 6,
    databaseType: 'Parley-Test-City',
    description: 'Parley geolocation test fixture',
    networks: STANDARD_NETWORKS,
  });
}

module.exports = { writeMmdb, buildMmdb, writeStandardFixture, STANDARD_NETWORKS, uint16, uint32, uint64 };

if (require.main === module) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node tests/helpers/mmdb.js OUT.mmdb   (writes the standard test fixture)');
    process.exit(2);
  }
  writeStandardFixture(out);
}
