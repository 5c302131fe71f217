"""Upload forms (flask-wtf: CSRF token included). The file itself is checked by models/catalog/media.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from models.catalog.media import ACCEPTED_EXTENSIONS
from models.catalog.service import DESCRIPTION_MAX, TITLE_MAX

ACCEPT = ",".join(sorted(set(ACCEPTED_EXTENSIONS) | set(ACCEPTED_EXTENSIONS.values())))


class VideoUploadForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX)])
    description = TextAreaField("Description", validators=[Length(max=DESCRIPTION_MAX)])
    file = FileField("Video file", validators=[FileRequired("Choose a video file.")], render_kw={"accept": ACCEPT})
    # Not published by default: the seller checks the upload (player, poster) before viewers see it.
    published = BooleanField("Publish now", default=False)


class AdUploadForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX)])
    file = FileField("Ad video file", validators=[FileRequired("Choose a video file.")], render_kw={"accept": ACCEPT})
    active = BooleanField("Active", default=True)


class ToggleForm(FlaskForm):
    """An empty form: only its CSRF token matters for the publish / activate buttons."""


class VideoEditForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX)])
    description = TextAreaField("Description", validators=[Length(max=DESCRIPTION_MAX)])


class AdEditForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX)])
