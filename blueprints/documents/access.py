"""Who may see and change documents: decided here, for the whole area.

School documents: every member of the school views and downloads; administrators and
teachers upload and delete. Outsiders get 404 (they learn nothing), members without the
right get 403. «Мои документы» are their owner's alone: anybody else gets 404.
"""
from typing import NamedTuple, Optional

from flask import abort, url_for

from blueprints.schools.access import access_school, roles_in
from db.models import Document, Folder, Membership, School, User

MANAGERS = {Membership.ADMIN, Membership.TEACHER}


class Place(NamedTuple):
    """Where documents live: a school's section, or one person's «Мои документы»."""

    school: Optional[School]
    owner: Optional[User]
    can_manage: bool

    def of(self, model):
        """The condition that selects rows of ``model`` (Folder or Document) in this place."""
        if self.school is not None:
            return model.school == self.school.id
        return model.owner == self.owner.id

    def url(self, name, **values):
        """The URL of a route of this place: ``place.url("folder", folder_id=3)``."""
        if self.school is not None:
            return url_for(f"documents.school_{name}", school_id=self.school.id, **values)
        return url_for(f"documents.my_{name}", **values)


def can_manage(user, school):
    return bool(roles_in(user, school) & MANAGERS)


def school_place(user, school_id):
    """A school's documents for one of its members; 404 for everybody else."""
    school = access_school(user, school_id)
    return Place(school, None, can_manage(user, school))


def personal_place(user):
    return Place(None, user, True)


def require_manager(place):
    if not place.can_manage:
        abort(403)


def access_folder(place, folder_id):
    """A folder of ``place``; 404 for anything else."""
    folder = Folder.get_or_none((Folder.id == folder_id) & place.of(Folder))
    if folder is None:
        abort(404)
    return folder


def access_document(place, document_id):
    document = Document.get_or_none((Document.id == document_id) & place.of(Document))
    if document is None:
        abort(404)
    return document
