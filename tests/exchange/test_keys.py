"""Site keys: kept beside the database, never in it; packages signed and sealed to the county, refused whole when
unsigned, altered, from an unknown or revoked site or not addressed here; sync signed batch by batch."""

from __future__ import annotations

import json
import shutil
import zipfile

import psycopg
import pytest

from app.exchange import envelope, keys
from app.exchange.keys import PublicKeys
from app.services import packages, site_keys, sync, users
from app.services.session import SYSTEM, Session
from app.store.errors import StoreError
from app.store.store import open_store
from tests.exchange.conftest import new_site_id, reseal, unsealed
from tests.exchange.test_sync import county_counts, local_counts


def test_the_private_keys_live_in_a_file_beside_the_database_never_in_it(township, tmp_path):
    mine = keys.mine(township.store)
    path = keys.key_file(township.store.path, mine.site_id)
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    secret = json.loads(path.read_text())["signing"].encode()
    assert secret not in township.store.path.read_bytes()
    assert keys.mine(township.store).public() == mine.public()  # the same keys at every start
    new_site_id(township)  # a copied or moved database is another site: it gets keys of its own
    other = keys.mine(township.store)
    assert other.public().signing != mine.public().signing and path.exists()


def test_a_new_database_has_its_keys_from_the_first_start(tmp_path):
    store = open_store(tmp_path / "new.sqlite3", daily_backup=False)
    try:
        from app.exchange.records import site_id

        assert keys.key_file(store.path, site_id(store.conn)).exists()
    finally:
        store.close()


def test_a_key_card_travels_and_an_edited_card_is_refused(township, tmp_path):
    card = site_keys.card(township)
    keys.write_card(card, tmp_path / "card.json")
    assert keys.read_card(tmp_path / "card.json") == card
    data = json.loads((tmp_path / "card.json").read_text())
    data["signing"] = site_keys.card(Session(open_store(tmp_path / "x.sqlite3", daily_backup=False), SYSTEM)).card()[
        "signing"]
    (tmp_path / "card.json").write_text(json.dumps(data))
    with pytest.raises(StoreError, match="指纹与其中的公钥不符"):
        keys.read_card(tmp_path / "card.json")


def test_packages_unsigned_altered_revoked_or_not_for_this_county_are_refused_whole(township, county_site, county_url,
                                                                                  tmp_path):
    good = tmp_path / "good.jzpkg"
    packages.export_package(township, good)
    here, there = local_counts(county_site), county_counts(county_url)

    def refused(path, match):
        with pytest.raises(StoreError, match=match):
            packages.import_here(county_site, path)
        with pytest.raises(StoreError, match=match):
            packages.import_to_county(county_site, path, county_url)
        assert local_counts(county_site) == here and county_counts(county_url) == there

    unsigned = tmp_path / "unsigned.jzpkg"
    with unsealed(good, county_site) as plain:
        shutil.copy(plain, unsigned)
    refused(unsigned, "没有签名和加密")

    altered = tmp_path / "altered.jzpkg"
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 1
    altered.write_bytes(bytes(data))
    refused(altered, "被改动")

    # Sealed to another county's installation: this county cannot open it, and says so.
    elsewhere = Session(open_store(tmp_path / "elsewhere.sqlite3", daily_backup=False), SYSTEM)
    try:
        with unsealed(good, county_site) as plain:
            reseal(plain, tmp_path / "elsewhere.jzpkg", township, elsewhere)
    finally:
        elsewhere.store.close()
    refused(tmp_path / "elsewhere.jzpkg", "不是发给本")

    relabelled = tmp_path / "relabelled.jzpkg"  # its envelope says another county than its manifest
    with unsealed(good, county_site) as plain:
        envelope.seal(plain, relabelled, keys.mine(township.store), [site_keys.card(county_site)], "110101")
    refused(relabelled, "包头与清单写的县不一致")

    site_keys.revoke_site(county_site, county_url, keys.mine(township.store).site_id, "电脑丢失")
    refused(good, "被吊销（电脑丢失）")
    with pytest.raises(StoreError, match="还没有在县里登记，或已被吊销"):
        sync.sync(township, county_url)
    assert county_counts(county_url) == there


def test_a_county_package_is_signed_by_the_county_and_opened_by_its_sites(township, county_site, county_url,
                                                                          tmp_path):
    from app.services import registry

    region = township.conn.execute("SELECT region_code FROM households LIMIT 1").fetchone()[0]
    registry.register_household(county_site, region, "县里登记的一户",
                                registry.PersonInput("县登记", "340223199001011233"))
    out = tmp_path / "county.jzpkg"
    packages.export_package(county_site, out)  # sealed to every registered site
    result = packages.import_here(township, out)
    assert result.applied["households"].added == 1


def test_sync_records_who_sent_each_row_and_verify_finds_what_no_site_signed(township, county_url):
    sync.sync(township, county_url)
    assert site_keys.verify(county_url) == []
    with psycopg.connect(county_url) as pg:
        senders = pg.execute("SELECT DISTINCT site_id, signed_by, via FROM pushes").fetchall()
        assert senders == [(keys.mine(township.store).site_id,) * 2 + ("sync",)]
        assert pg.execute("SELECT count(*) FROM persons WHERE push_id IS NULL").fetchone()[0] == 0
        # The county's copy of the audit log names the OS user and computer, as the site's does since schema 11.
        assert pg.execute("SELECT count(*) FROM audit_log WHERE os_user IS NOT NULL AND host IS NOT NULL "
                          "AND digest_version = '3'").fetchone()[0] > 0
        pg.execute("UPDATE persons SET name = '改过' WHERE id = (SELECT min(id) FROM persons)")
        pg.execute("INSERT INTO households (id, region_code, address, head_person_id, created_at, updated_at, site_id) "
                   "SELECT 'made-up', region_code, address, head_person_id, created_at, updated_at, site_id "
                   "FROM households LIMIT 1")
    found = site_keys.verify(county_url)
    assert any("人员 1 条内容与所属站点签名时不同" in line for line in found), found
    assert any("家庭 1 条没有任何站点签名" in line for line in found), found


def test_a_package_imported_at_the_county_is_vouched_for_by_the_county(township, county_site, county_url, tmp_path):
    out = tmp_path / "p.jzpkg"
    packages.export_package(township, out)
    packages.import_to_county(county_site, out, county_url)
    assert site_keys.verify(county_url) == []
    with psycopg.connect(county_url) as pg:
        assert pg.execute("SELECT DISTINCT via, signed_by FROM pushes").fetchall() == [
            ("package", keys.mine(county_site.store).site_id)]


def test_an_unregistered_site_cannot_push(township, county_url):
    new_site_id(township)  # a copy of the database on another laptop: new keys, nobody registered them
    with pytest.raises(StoreError, match="还没有在县里登记") as refused:
        sync.sync(township, county_url)
    assert site_keys.card(township).fingerprint in str(refused.value)


def test_only_a_county_admin_at_the_county_installation_registers_sites(township, county_site, county_url, tmp_path):
    from tests.faults.killing import AS_ADMIN, cli

    card = tmp_path / "card.json"
    code, out, _ = cli("keys", "show", "--card", str(card), "--db", str(township.store.path))
    assert code == 0 and site_keys.card(township).fingerprint in out
    county_db_path = str(county_site.store.path)
    code, _, err = cli("county", "register-site", county_url, str(card), "--jurisdiction", "340223", "--db",
                       county_db_path)
    assert code == 2 and "--user" in err
    users.create_user(county_site, "shenpi", "县级审批", "县级审批", "340223", "jiuzhu-demo")
    code, _, err = cli("county", "register-site", county_url, str(card), "--jurisdiction", "340223", "--db",
                       county_db_path, "--user", "shenpi", "--password-stdin", stdin="jiuzhu-demo\n")
    assert code == 2 and "登记或吊销站点的公钥" in err
    code, _, err = cli("county", "register-site", county_url, str(card), "--jurisdiction", "340223", *AS_ADMIN,
                       "--db", str(township.store.path))
    assert code == 2, err
    code, out, err = cli("county", "register-site", county_url, str(card), "--jurisdiction", "340223", *AS_ADMIN,
                         "--db", county_db_path)
    assert code == 0 and "已登记站点" in out, err
    code, out, _ = cli("county", "sites", county_url)
    assert code == 0 and site_keys.card(township).fingerprint in out and "有效" in out
    site = keys.mine(township.store).site_id
    code, out, err = cli("county", "revoke-site", county_url, site, "--reason", "站点撤并", *AS_ADMIN,
                         "--db", county_db_path)
    assert code == 0, err
    assert "已吊销" in cli("county", "sites", county_url)[1]


def test_an_envelope_cut_short_or_with_chunks_swapped_is_refused(township, county_site, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (envelope.CHUNK // 128))  # two chunks and a signature
    sealed = tmp_path / "big.sealed"
    envelope.seal(big, sealed, keys.mine(township.store), [site_keys.card(county_site)], "340223")
    senders = {keys.mine(township.store).site_id: site_keys.card(township)}.__getitem__
    with envelope.opened(sealed, keys.mine(county_site.store), senders, 1 << 30) as (plain, header):
        assert plain.read_bytes() == big.read_bytes() and header["sender"] == keys.mine(township.store).site_id
    data = sealed.read_bytes()
    start = data.index(b"D\x00\x10\x00\x10")  # the first chunk's record: type, then its length
    record = 5 + envelope.CHUNK + 16
    first, second = data[start:start + record], data[start + record:start + 2 * record]
    swapped = data[:start] + second + first + data[start + 2 * record:]
    for name, bad, match in (("cut", data[:start + record], "不完整"), ("swapped", swapped, "被改动、截断或调换")):
        (tmp_path / name).write_bytes(bad)
        with pytest.raises(StoreError, match=match):
            with envelope.opened(tmp_path / name, keys.mine(county_site.store), senders, 1 << 30):
                pass


def test_a_sealed_file_larger_than_allowed_is_refused_without_holding_it(township, county_site, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (3 * envelope.CHUNK))
    sealed = tmp_path / "big.sealed"
    envelope.seal(big, sealed, keys.mine(township.store), [site_keys.card(county_site)], "340223")
    with pytest.raises(StoreError, match="超过上限"):
        with envelope.opened(sealed, keys.mine(county_site.store), lambda s: site_keys.card(township),
                             2 * envelope.CHUNK):
            pass


def test_a_plain_zip_is_named_as_unsigned(tmp_path, township):
    plain = tmp_path / "plain.jzpkg"
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("manifest.json", "{}")
    with pytest.raises(StoreError, match="没有签名和加密"):
        with envelope.opened(plain, keys.mine(township.store), lambda s: PublicKeys(s, b"", b""), 1 << 20):
            pass
