"""flask --app dvc districts import FILE --name-field FIELD [--operation ID] [--layer NAME]."""
from __future__ import annotations

import pytest

from dvc.extensions import db
from tests.integration.test_sites_shelters_pages import BOW_TIE, NORTH, SOUTH, geojson


def _districts(app, op_id) -> list[str]:
    from dvc.districts.models import District
    with app.app_context():
        return sorted(db.session.scalars(db.select(District.name).where(
            District.operation_id == op_id)))


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_import_into_the_only_open_operation(app, runner, operation, tmp_path):
    from dvc.sites.models import Site
    path = geojson(tmp_path / "city.geojson", {"南区": SOUTH, "北区": NORTH, "東区": BOW_TIE})
    result = runner.invoke(args=["districts", "import", path, "--name-field", "地区名"])
    assert result.exit_code == 0, result.output
    assert f"imported 3 districts into operation {operation[0]}" in result.output
    assert "repaired broken outlines: 東区" in result.output
    assert _districts(app, operation[0]) == ["北区", "南区", "東区"]
    with app.app_context():
        assert db.session.get(Site, operation[2]).district == "北区"


def test_a_broken_file_prints_the_reason_fails_and_keeps_the_old_districts(app, runner,
                                                                         operation, tmp_path):
    good = geojson(tmp_path / "good.geojson", {"南区": SOUTH})
    assert runner.invoke(args=["districts", "import", good, "--name-field", "地区名"]
                         ).exit_code == 0
    wrong_field = runner.invoke(args=["districts", "import", good, "--name-field", "NAME"])
    assert wrong_field.exit_code != 0
    # Outside a request the CLI speaks the configured language (Japanese by default).
    assert "NAME" in wrong_field.output and "地区名" in wrong_field.output
    assert "Traceback" not in wrong_field.output
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    unreadable = runner.invoke(args=["districts", "import", str(broken), "--name-field", "x"])
    assert unreadable.exit_code != 0 and "Error:" in unreadable.output
    assert _districts(app, operation[0]) == ["南区"]


def test_messages_follow_the_configured_language(make_app, tmp_path):
    app = make_app(BABEL_DEFAULT_LOCALE="en")
    from dvc.operations.operations import create_operation
    with app.app_context():
        create_operation("英語の災害", "real", actor="test")
        db.session.commit()
    path = geojson(tmp_path / "city.geojson", {"南区": SOUTH})
    result = app.test_cli_runner().invoke(
        args=["districts", "import", path, "--name-field", "NAME"])
    assert result.exit_code != 0
    assert "There is no field NAME in the file. Its fields are: 地区名." in result.output


def test_several_open_operations_need_operation(app, runner, operation, tmp_path):
    from dvc.operations.operations import create_operation
    with app.app_context():
        other = create_operation("別の災害", "drill", actor="test")
        db.session.commit()
        other_id = other.id
    path = geojson(tmp_path / "city.geojson", {"南区": SOUTH})
    guess = runner.invoke(args=["districts", "import", path, "--name-field", "地区名"])
    assert guess.exit_code != 0 and "--operation" in guess.output
    assert _districts(app, operation[0]) == [] and _districts(app, other_id) == []
    chosen = runner.invoke(args=["districts", "import", path, "--name-field", "地区名",
                                 "--operation", str(other_id)])
    assert chosen.exit_code == 0, chosen.output
    assert _districts(app, other_id) == ["南区"] and _districts(app, operation[0]) == []
    unknown = runner.invoke(args=["districts", "import", path, "--name-field", "地区名",
                                  "--operation", "999"])
    assert unknown.exit_code != 0 and "no operation 999" in unknown.output


def test_a_file_with_several_layers_needs_layer(app, runner, operation, tmp_path):
    import geopandas
    import shapely
    path = tmp_path / "city.gpkg"
    for name, ring in (("districts", SOUTH), ("roads", NORTH)):
        geopandas.GeoDataFrame({"地区名": [name]}, geometry=[shapely.Polygon(ring)],
                               crs="EPSG:4326").to_file(path, layer=name, driver="GPKG")
    several = runner.invoke(args=["districts", "import", str(path), "--name-field", "地区名"])
    assert several.exit_code != 0 and "roads" in several.output
    chosen = runner.invoke(args=["districts", "import", str(path), "--name-field", "地区名",
                                 "--layer", "districts"])
    assert chosen.exit_code == 0, chosen.output
    assert _districts(app, operation[0]) == ["districts"]
