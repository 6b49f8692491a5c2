import os

from django.core.wsgi import get_wsgi_application

from booking_site.core.arrival import stamped_wsgi
from booking_site.core.startup import ready_to_serve

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "booking_site.settings")
application = stamped_wsgi(get_wsgi_application())

ready_to_serve()
