from django.urls import path

from kontor.web.records import record_urls

from . import registry, views

app_name = "objects"

urlpatterns = [
    path("settings/objects/", views.definition_list, name="definition_list"),
    path("settings/objects/new/", views.definition_create, name="definition_create"),
    path("settings/objects/<int:pk>/", views.definition_edit, name="definition_edit"),
    path("settings/objects/<int:pk>/delete/", views.definition_delete, name="definition_delete"),
    # Every custom type's pages, the type named by its API name in the address.
    *record_urls(prefix="objects/<slug:type_slug>", name="record", resolve=registry.resolve),
]
