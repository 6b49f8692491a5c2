"""A URLconf only ``test_startup`` loads, to see that start-up imports it."""

urlpatterns: list = []
