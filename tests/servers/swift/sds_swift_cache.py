"""In-process stand-in for Swift's memcache middleware (test cluster only).

tempauth keeps its tokens in `env['swift.cache']` and refuses every request,
S3 ones included, without it ("Memcache required"); the proxy also caches
account/container info there. A real deployment points the `cache` filter at
memcached servers; the test proxy runs as one process (`workers = 0`), so a
dict in that process is coherent and spares the tests a memcached daemon.

The object keeps swift.common.memcached.MemcacheRing's interface and meaning:
values are JSON round-tripped like the real client (tuples come back as
lists), `time` is a TTL in seconds, or an absolute Unix time past 30 days.

Used from proxy-server.conf as
    [filter:cache]
    paste.filter_factory = sds_swift_cache:filter_factory
"""
import json
import time as _time

_THIRTY_DAYS = 30 * 24 * 60 * 60


class LocalCache(object):
    def __init__(self):
        self._data = {}

    @staticmethod
    def _expiry(ttl):
        ttl = int(ttl or 0)
        if ttl <= 0:
            return None
        return ttl if ttl > _THIRTY_DAYS else _time.time() + ttl

    def _live(self, key):
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= _time.time():
            del self._data[key]
            return None
        return item

    def set(self, key, value, serialize=True, time=0, min_compress_len=0,
            raise_on_error=False):
        if serialize:
            value = json.loads(json.dumps(value))
        self._data[key] = (value, self._expiry(time))

    def get(self, key, raise_on_error=False):
        item = self._live(key)
        return None if item is None else item[0]

    def incr(self, key, delta=1, time=0):
        item = self._live(key)
        value = max(0, (int(item[0]) if item else 0) + int(delta))
        self._data[key] = (value, item[1] if item else self._expiry(time))
        return value

    def decr(self, key, delta=1, time=0):
        return self.incr(key, -int(delta), time)

    def delete(self, key, server_key=None):
        self._data.pop(key, None)

    def set_multi(self, mapping, server_key, serialize=True, time=0,
                  min_compress_len=0):
        for key, value in mapping.items():
            self.set(key, value, serialize=serialize, time=time)

    def get_multi(self, keys, server_key):
        return [self.get(key) for key in keys]


def filter_factory(global_conf, **local_conf):
    cache = LocalCache()

    def cache_filter(app):
        def middleware(env, start_response):
            env['swift.cache'] = cache
            return app(env, start_response)
        return middleware

    return cache_filter
