"""The district import form (admin)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import InputRequired, Optional

from dvc.volunteers.forms import at_most


class DistrictImportForm(FlaskForm):
    file = FileField(_l("District file (GeoJSON, GeoPackage or zipped Shapefile)"),
                     validators=[FileRequired(_l("Choose a district file."))])
    name_field = StringField(
        _l("Field that holds each district's name"),
        validators=[InputRequired(_l("Name the field that holds each district's name.")),
                    at_most(100)])
    layer = StringField(_l("Layer (only for a file with several layers)"),
                        validators=[Optional(), at_most(100)])
