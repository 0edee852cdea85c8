from django.urls import path

from . import views

app_name = "contacts"

urlpatterns = [
    path("people/", views.person_list, name="person_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/bulk/", views.person_bulk, name="person_bulk"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("people/<int:pk>/delete/", views.person_delete, name="person_delete"),
    path("people/<int:pk>/documents/upload/", views.person_documents, name="person_documents"),
    path("people/<int:pk>/<str:tab>/", views.person_detail, name="person_tab"),
    path("companies/", views.company_list, name="company_list"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/bulk/", views.company_bulk, name="company_bulk"),
    path("companies/autocomplete/", views.company_autocomplete, name="company_autocomplete"),
    path("companies/<int:pk>/", views.company_detail, name="company_detail"),
    path("companies/<int:pk>/edit/", views.company_edit, name="company_edit"),
    path("companies/<int:pk>/delete/", views.company_delete, name="company_delete"),
    path("companies/<int:pk>/documents/upload/", views.company_documents, name="company_documents"),
    path("companies/<int:pk>/<str:tab>/", views.company_detail, name="company_tab"),
]
