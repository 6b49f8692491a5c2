"""The clock beside the worker: every ALERT_CYCLE_SECONDS it enqueues the periodic tasks, the
earlier-appointment alert cycle (unless one is still waiting for a worker) and the sweep that
sends messages left due. More than one clock does no harm: each practice's search budget and
each patient's one alert message a day are kept in shared storage, not here."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tasks_db.models import DBTaskResult

from booking_site.notifications.alerts import alert_cycle
from booking_site.notifications.tasks import send_overdue


class Command(BaseCommand):
    help = "Enqueue the earlier-appointment alert cycle every ALERT_CYCLE_SECONDS (or --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Enqueue one cycle and stop.")

    def handle(self, *args, once: bool = False, **options):
        while True:
            self.tick()
            if once:
                return
            time.sleep(settings.ALERT_CYCLE_SECONDS)

    def tick(self) -> None:
        waiting = DBTaskResult.objects.ready().filter(task_path=alert_cycle.module_path)
        if waiting.exists():
            self.stdout.write("alert cycle still waiting for a worker: not enqueued again")
        else:
            self.stdout.write(f"alert cycle enqueued ({alert_cycle.enqueue().id})")
        send_overdue.enqueue()
