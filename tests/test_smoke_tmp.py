import os
import sqlalchemy as sa


def test_postgis_reachable():
    url = os.environ["CITYOPS_TEST_POSTGRES_URL"]
    with sa.create_engine(url).connect() as c:
        assert c.execute(sa.text("select postgis_version()")).scalar()


def test_spatialite_env():
    assert os.environ["SPATIALITE_LIBRARY_PATH"] == "mod_spatialite"
