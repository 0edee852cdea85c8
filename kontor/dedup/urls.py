from django.urls import path

from . import views

app_name = "dedup"

urlpatterns = [
    path("duplicates/", views.candidates, name="list"),
    path("duplicates/scan/", views.start_scan, name="scan"),
    path("duplicates/scans/<int:scan_id>/", views.scan_progress, name="scan_progress"),
    path("duplicates/<int:candidate_id>/merge/", views.merge_form, name="merge"),
    path("duplicates/<int:candidate_id>/dismiss/", views.dismiss, name="dismiss"),
    path("duplicates/merges/<int:merge_id>/", views.merge_done, name="merge_done"),
    path("duplicates/merges/<int:merge_id>/undo/", views.undo, name="undo"),
]
