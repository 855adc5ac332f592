"""The test harness's PostgreSQL server answers SQL, and each test's database starts empty."""
import peewee as pw
from playhouse.db_url import connect


def test_each_test_gets_an_empty_database_on_a_running_server(postgres_url):
    db = connect(postgres_url)
    try:
        assert db.get_tables() == []
        db.execute_sql("CREATE TABLE seen (x integer)")
        assert db.execute_sql("SELECT version()").fetchone()[0].startswith("PostgreSQL")
    finally:
        db.close()


def test_a_second_database_does_not_see_the_first_ones_tables(postgres_server):
    first, second = connect(postgres_server.new_database()), connect(postgres_server.new_database())
    try:
        first.execute_sql("CREATE TABLE only_here (x integer)")
        assert second.get_tables() == []
        assert isinstance(first, pw.PostgresqlDatabase)
    finally:
        first.close()
        second.close()
