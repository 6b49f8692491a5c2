import os

from django.core.asgi import get_asgi_application

from booking_site.core.arrival import stamped_asgi
from booking_site.core.startup import ready_to_serve

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booking_site.settings")
application = stamped_asgi(get_asgi_application())

ready_to_serve()
