"""A cache that is down: every call fails as a Redis client's would while Redis is stopped."""

from django.core.cache.backends.base import BaseCache


class CacheDown(ConnectionError):
    pass


class BrokenCache(BaseCache):
    def __init__(self, location, params):
        super().__init__(params)

    def _fail(self, *args, **kwargs):
        raise CacheDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    add = get = set = touch = delete = has_key = clear = _fail
    get_many = set_many = delete_many = incr = decr = _fail
