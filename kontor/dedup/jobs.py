"""Background jobs of the duplicate finder (kontor.core.jobs)."""

from __future__ import annotations

from django_tasks import task

from kontor.core.jobs import QUEUE

from .models import Scan


@task(queue_name=QUEUE)
def run_scan(scan_id: int) -> int:
    """Run one queued scan; answers the pairs it left open. A scan lost with a killed
    worker is only a scan: the user starts another."""
    from . import services

    scan = Scan.objects.filter(pk=scan_id, status=Scan.Status.QUEUED).first()
    if scan is None:
        return 0
    return services.run(scan).pairs
