"""Image IDs, chain IDs and tag mapping exactly as Docker 1.10.3 computes them.

The vectors are moby's own, at tag v1.10.3, quoted with the test they come from:

- migrate/v1/migratev1_test.go TestMigrateImages: the image IDs of a busybox pair as Docker 1.9 stored
  it (asserted there with reflect.DeepEqual), and the v2 metadata of the empty layer's diffID after the
  busybox pair Docker 1.8.2 stored;
- migrate/v1/migratev1_test.go TestMigrateContainers: the chain ID of the container's mount parent and
  the image the migrated config points at;
- migrate/v1/migratev1_test.go TestMigrateRefs: which legacy tags map to which image;
- reference/store_test.go marshalledSaveLoadTestCases: repositories.json, byte for byte;
- layer/empty.go DigestSHA256EmptyTar; image/image_test.go TestMarshalKeyOrder.
"""
import hashlib
import json
import os

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.image_ids import (
    EMPTY_LAYER_DIFF_ID, ConfigError, build_image_config, chain_id, chain_ids, version_less_than)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.plan import (
    MIGRATED, SKIPPED, plan_migration)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.tags import (
    decode_repositories, migrate_refs, reference_for, render_repositories)

# --- migrate/v1/migratev1_test.go TestMigrateImages --------------------------------------------------
BUSYBOX_19_BASE = (
    b'{"architecture":"amd64","config":{"Hostname":"23304fc829f9","Domainname":"","User":"","AttachStdin":false,'
    b'"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,'
    b'"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},'
    b'"container":"23304fc829f9b9349416f6eb1afec162907eba3a328f51d53a17f8986f865d65","container_config":'
    b'{"Hostname":"23304fc829f9","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,'
    b'"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["/bin/sh","-c",'
    b'"#(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /"],"Image":"",'
    b'"Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"created":'
    b'"2015-10-31T22:22:54.690851953Z","docker_version":"1.8.2","layer_id":'
    b'"sha256:55dc925c23d1ed82551fd018c27ac3ee731377b6bad3963a2a4e76e753d70e57","os":"linux"}')
BUSYBOX_19_TOP = (
    b'{"architecture":"amd64","config":{"Hostname":"23304fc829f9","Domainname":"","User":"","AttachStdin":false,'
    b'"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,'
    b'"Cmd":["sh"],"Image":"d1592a710ac323612bd786fa8ac20727c58d8a67847e5a65177c594f43919498","Volumes":null,'
    b'"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container":'
    b'"349b014153779e30093d94f6df2a43c7a0a164e05aa207389917b540add39b51","container_config":{"Hostname":'
    b'"23304fc829f9","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,'
    b'"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["/bin/sh","-c","#(nop) CMD [\\"sh\\"]"],'
    b'"Image":"d1592a710ac323612bd786fa8ac20727c58d8a67847e5a65177c594f43919498","Volumes":null,"WorkingDir":"",'
    b'"Entrypoint":null,"OnBuild":null,"Labels":null},"created":"2015-10-31T22:22:55.613815829Z",'
    b'"docker_version":"1.8.2","layer_id":"sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4",'
    b'"os":"linux","parent_id":"sha256:039b63dd2cbaa10d6015ea574392530571ed8d7b174090f032211285a71881d0"}')
BUSYBOX_19_BASE_ID = "sha256:ca406eaf9c26898414ff5b7b3a023c33310759d6203be0663dbf1b3a712f432d"
BUSYBOX_19_TOP_ID = "sha256:a488bec94bb96b26a968f913d25ef7d8d204d727ca328b52b4b059c7d03260b6"

BUSYBOX_182_BASE_V1 = "d1592a710ac323612bd786fa8ac20727c58d8a67847e5a65177c594f43919498"
BUSYBOX_182_TOP_V1 = "17583c7dd0dae6244203b8029733bdb7d17fccbb2b5d93e2b24cf48b8bfd06e2"
_CONFIG_182 = (
    '{"Hostname":"23304fc829f9","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,'
    '"AttachStderr":false,"ExposedPorts":null,"PublishService":"","Tty":false,"OpenStdin":false,"StdinOnce":false,'
    '"Env":null,"Cmd":%s,"Image":"%s","Volumes":null,"VolumeDriver":"","WorkingDir":"","Entrypoint":null,'
    '"NetworkDisabled":false,"MacAddress":"","OnBuild":null,"Labels":null}')
BUSYBOX_182_BASE = (
    '{"id":"%s","created":"2015-10-31T22:22:54.690851953Z","container":'
    '"23304fc829f9b9349416f6eb1afec162907eba3a328f51d53a17f8986f865d65","container_config":%s,'
    '"docker_version":"1.8.2","config":%s,"architecture":"amd64","os":"linux","Size":1108935}' % (
        BUSYBOX_182_BASE_V1,
        _CONFIG_182 % ('["/bin/sh","-c","#(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /"]', ''),
        _CONFIG_182 % ('null', ''))).encode()
BUSYBOX_182_TOP = (
    '{"id":"%s","parent":"%s","created":"2015-10-31T22:22:55.613815829Z","container":'
    '"349b014153779e30093d94f6df2a43c7a0a164e05aa207389917b540add39b51","container_config":%s,'
    '"docker_version":"1.8.2","config":%s,"architecture":"amd64","os":"linux","Size":0}' % (
        BUSYBOX_182_TOP_V1, BUSYBOX_182_BASE_V1,
        _CONFIG_182 % ('["/bin/sh","-c","#(nop) CMD [\\"sh\\"]"]', BUSYBOX_182_BASE_V1),
        _CONFIG_182 % ('["sh"]', BUSYBOX_182_BASE_V1))).encode()
CHECKSUM_182_BASE = "sha256:55dc925c23d1ed82551fd018c27ac3ee731377b6bad3963a2a4e76e753d70e57"
CHECKSUM_182_TOP = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"

# --- migrate/v1/migratev1_test.go TestMigrateContainers -------------------------------------------
CONTAINER_IMAGE_CONFIG = (
    b'{"architecture":"amd64","config":{"AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Cmd":["sh"],'
    b'"Entrypoint":null,"Env":null,"Hostname":"23304fc829f9","Image":"d1592a710ac323612bd786fa8ac20727c58d8a67847e5a'
    b'65177c594f43919498","Labels":null,"OnBuild":null,"OpenStdin":false,"StdinOnce":false,"Tty":false,"Volumes":null,'
    b'"WorkingDir":"","Domainname":"","User":""},"container":"349b014153779e30093d94f6df2a43c7a0a164e05aa207389917b540a'
    b'dd39b51","container_config":{"AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Cmd":["/bin/sh","-c"'
    b',"#(nop) CMD [\\"sh\\"]"],"Entrypoint":null,"Env":null,"Hostname":"23304fc829f9","Image":"d1592a710ac323612bd786'
    b'fa8ac20727c58d8a67847e5a65177c594f43919498","Labels":null,"OnBuild":null,"OpenStdin":false,"StdinOnce":false,'
    b'"Tty":false,"Volumes":null,"WorkingDir":"","Domainname":"","User":""},"created":"2015-10-31T22:22:55.613815829Z'
    b'","docker_version":"1.8.2","history":[{"created":"2015-10-31T22:22:54.690851953Z","created_by":"/bin/sh -c #(nop)'
    b' ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /"},{"created":"2015-10-31T22:22:'
    b'55.613815829Z","created_by":"/bin/sh -c #(nop) CMD [\\"sh\\"]"}],"os":"linux","rootfs":{"type":"layers","diff_id'
    b's":["sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1","sha256:5f70bf18a086007016e948b04a'
    b'ed3b82103a36bea41755b6cddfaf10ace3c6ef"]}}')
CONTAINER_MOUNT_PARENT = "sha256:c3191d32a37d7159b2e30830937d2e30268ad6c375a773a8994911a3aba9b93f"
_CONTAINER = (
    '{"State":{"Running":false,"Paused":false,"Restarting":false,"OOMKilled":false,"Dead":false,"Pid":0,"ExitCode":0,'
    '"Error":"","StartedAt":"2015-11-10T21:42:40.604267436Z","FinishedAt":"2015-11-10T21:42:41.869265487Z"},"ID":"%s",'
    '"Created":"2015-11-10T21:42:40.433831551Z","Path":"sh","Args":[],"Config":{"Hostname":"f780ee3f80e6",'
    '"Domainname":"","User":"","AttachStdin":true,"AttachStdout":true,"AttachStderr":true,"Tty":true,"OpenStdin":true,'
    '"StdinOnce":true,"Env":null,"Cmd":["sh"],"Image":"busybox","Volumes":null,"WorkingDir":"","Entrypoint":null,'
    '"OnBuild":null,"Labels":{}},"Image":"%s","NetworkSettings":{"Bridge":"","EndpointID":"","Gateway":"",'
    '"GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"HairpinMode":false,"IPAddress":"","IPPrefixLen":0,'
    '"IPv6Gateway":"","LinkLocalIPv6Address":"","LinkLocalIPv6PrefixLen":0,"MacAddress":"","NetworkID":"",'
    '"PortMapping":null,"Ports":null,"SandboxKey":"","SecondaryIPAddresses":null,"SecondaryIPv6Addresses":null},'
    '"ResolvConfPath":"/var/lib/docker/containers/f780ee3f80e66e9b432a57049597118a66aab8932be88e5628d4c824edbee37c/'
    'resolv.conf","HostnamePath":"/var/lib/docker/containers/f780ee3f80e66e9b432a57049597118a66aab8932be88e5628d4c8'
    '24edbee37c/hostname","HostsPath":"/var/lib/docker/containers/f780ee3f80e66e9b432a57049597118a66aab8932be88e5628'
    'd4c824edbee37c/hosts","LogPath":"/var/lib/docker/containers/f780ee3f80e66e9b432a57049597118a66aab8932be88e5628d'
    '4c824edbee37c/f780ee3f80e66e9b432a57049597118a66aab8932be88e5628d4c824edbee37c-json.log","Name":'
    '"/determined_euclid","Driver":"overlay","ExecDriver":"native-0.2","MountLabel":"","ProcessLabel":"",'
    '"RestartCount":0,"UpdateDns":false,"HasBeenStartedBefore":false,"MountPoints":{},"Volumes":{},"VolumesRW":{},'
    '"AppArmorProfile":""}')
CONTAINER_OK = "f780ee3f80e66e9b432a57049597118a66aab8932be88e5628d4c824edbee37c"
CONTAINER_BAD = "e780ee3f80e66e9b432a57049597118a66aab8932be88e5628d4c824edbee37c"
CONTAINER_OK_V1_IMAGE = "2c5ac3f849df8627fcf2822727f87c57f38b7129d3604fbc11d861fe856ff093"
CONTAINER_BAD_V1_IMAGE = "4c5ac3f849df8627fcf2822727f87c57f38b7129d3604fbc11d861fe856ff093"

# --- migrate/v1/migratev1_test.go TestMigrateRefs ------------------------------------------------
REFS_LEGACY = (
    b'{"Repositories":{"busybox":{"latest":"b3ca410aa2c115c05969a7b2c8cf8a9fcf62c1340ed6a601c9ee50df337ec108",'
    b'"sha256:16a2a52884c2a9481ed267c2d46483eac7693b813a63132368ab098a71303f8a":"b3ca410aa2c115c05969a7b2c8cf8a9fcf62'
    b'c1340ed6a601c9ee50df337ec108"},"registry":{"2":"5d165b8e4b203685301c815e95663231691d383fd5e3d3185d1ce3f8dddead3d"'
    b',"latest":"8d5547a9f329b1d3f93198cd661fb5117e5a96b721c5cf9a2c389e7dd4877128"}}}')
REFS_MAPPINGS = {
    "5d165b8e4b203685301c815e95663231691d383fd5e3d3185d1ce3f8dddead3d":
        "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
    "b3ca410aa2c115c05969a7b2c8cf8a9fcf62c1340ed6a601c9ee50df337ec108":
        "sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9",
    "abcdef3434c115c05969a7b2c8cf8a9fcf62c1340ed6a601c9ee50df337ec108":
        "sha256:56434342345ae68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
}
REFS_EXPECTED = {
    "busybox:latest": "sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9",
    "busybox@sha256:16a2a52884c2a9481ed267c2d46483eac7693b813a63132368ab098a71303f8a":
        "sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9",
    "registry:2": "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
}

# --- reference/store_test.go ------------------------------------------------------------------------
SAVE_LOAD_CASES = {
    ("registry:5000/foobar", "HEAD"): "sha256:470022b8af682154f57a2163d030eb369549549cba00edc69e1b99b46bb924d6",
    ("registry:5000/foobar", "alternate"): "sha256:ae300ebc4a4f00693702cfb0a5e0b7bc527b353828dc86ad09fb95c8a681b793",
    ("registry:5000/foobar", "latest"): "sha256:6153498b9ac00968d71b66cca4eac37e990b5f9eb50c26877eb8799c8847451b",
    ("registry:5000/foobar", "master"): "sha256:6c9917af4c4e05001b346421959d7ea81b6dc9d25718466a37a6add865dfd7fc",
    ("jess/hollywood", "latest"): "sha256:ae7a5519a0a55a2d4ef20ddcbd5d0ca0888a1f7ab806acc8e2a27baf46f529fe",
    ("registry", "sha256:367eb40fd0330a7e464777121e39d2f5b3e8e23a1e159342e53ab05c9e4d94e6"):
        "sha256:24126a56805beb9711be5f4590cc2eb55ab8d4a85ebd618eed72bb19fc50631c",
    ("busybox", "latest"): "sha256:91e54dfb11794fad694460162bf0cb0a4fa710cfa3f60979c177d920813e267c",
}
MARSHALLED_SAVE_LOAD = (
    b'{"Repositories":{"busybox":{"busybox:latest":"sha256:91e54dfb11794fad694460162bf0cb0a4fa710cfa3f60979c177d920813e'
    b'267c"},"jess/hollywood":{"jess/hollywood:latest":"sha256:ae7a5519a0a55a2d4ef20ddcbd5d0ca0888a1f7ab806acc8e2a27baf'
    b'46f529fe"},"registry":{"registry@sha256:367eb40fd0330a7e464777121e39d2f5b3e8e23a1e159342e53ab05c9e4d94e6":"sha25'
    b'6:24126a56805beb9711be5f4590cc2eb55ab8d4a85ebd618eed72bb19fc50631c"},"registry:5000/foobar":{"registry:5000/foob'
    b'ar:HEAD":"sha256:470022b8af682154f57a2163d030eb369549549cba00edc69e1b99b46bb924d6","registry:5000/foobar:alternat'
    b'e":"sha256:ae300ebc4a4f00693702cfb0a5e0b7bc527b353828dc86ad09fb95c8a681b793","registry:5000/foobar:latest":"sha2'
    b'56:6153498b9ac00968d71b66cca4eac37e990b5f9eb50c26877eb8799c8847451b","registry:5000/foobar:master":"sha256:6c991'
    b'7af4c4e05001b346421959d7ea81b6dc9d25718466a37a6add865dfd7fc"}}}')


def _write(path, data, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as stream:
        stream.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)


def add_image(root, v1_id, json_bytes, parent="", checksum=""):
    """migratev1_test.go addImage: json, .migration-diffid (the empty layer), .migration-size 0, parent and
    checksum files; plus the .migration-tardata the real layer store opens (the test's mock does not)."""
    graph = os.path.join(str(root), "graph", v1_id)
    _write(os.path.join(graph, "json"), json_bytes)
    _write(os.path.join(graph, ".migration-diffid"), EMPTY_LAYER_DIFF_ID)
    _write(os.path.join(graph, ".migration-size"), "0")
    _write(os.path.join(graph, ".migration-tardata"), b"tar-split of an empty layer")
    if parent:
        _write(os.path.join(graph, "parent"), parent)
    if checksum:
        _write(os.path.join(graph, "checksum"), checksum)


def test_empty_layer_digest():
    """layer/empty.go DigestSHA256EmptyTar: the sha256 of an empty tar (1024 zero bytes)."""
    assert EMPTY_LAYER_DIFF_ID == "sha256:" + hashlib.sha256(b"\0" * 1024).hexdigest()


def test_migrate_images_busybox_from_docker_19():
    """TestMigrateImages: the two images Docker 1.9 stored (layer_id, parent_id; docker_version 1.8.2, so
    the json goes through the V1Image struct first)."""
    base = build_image_config(BUSYBOX_19_BASE, EMPTY_LAYER_DIFF_ID)
    assert base.image_id == BUSYBOX_19_BASE_ID
    top = build_image_config(BUSYBOX_19_TOP, EMPTY_LAYER_DIFF_ID, parent_config=base.config)
    assert top.image_id == BUSYBOX_19_TOP_ID
    assert top.chain_id == chain_id([EMPTY_LAYER_DIFF_ID, EMPTY_LAYER_DIFF_ID])


def test_migrate_images_whole_store(tmp_path):
    """TestMigrateImages end to end on a store: both calls of the test at once. moby asserts the first
    pair's IDs and the v2 metadata of the empty layer's diffID; it also sets c091bb33... and d963020e...
    for the 1.8.2 pair in `expected` but never compares the mappings again (no DeepEqual after the second
    migrateImages call). Through V1Image both pairs have the same config, so the 1.8.2 pair maps onto the
    asserted IDs, as v1.10.3's code gives them."""
    id1 = "1" * 64
    id2 = "2" * 64
    add_image(tmp_path, id1, BUSYBOX_19_BASE)
    add_image(tmp_path, id2, BUSYBOX_19_TOP, parent=id1)
    add_image(tmp_path, BUSYBOX_182_TOP_V1, BUSYBOX_182_TOP, checksum=CHECKSUM_182_TOP)
    add_image(tmp_path, BUSYBOX_182_BASE_V1, BUSYBOX_182_BASE, checksum=CHECKSUM_182_BASE)
    plan = plan_migration(str(tmp_path), "vfs")
    assert plan.mappings == {id1: BUSYBOX_19_BASE_ID, id2: BUSYBOX_19_TOP_ID,
                             BUSYBOX_182_BASE_V1: BUSYBOX_19_BASE_ID, BUSYBOX_182_TOP_V1: BUSYBOX_19_TOP_ID}
    assert plan.problems == []
    # the v2 metadata: the 1.8.2 base first (migrated as 17583c7d's parent), then its child
    assert plan.v2metadata == {EMPTY_LAYER_DIFF_ID: [(CHECKSUM_182_BASE, ""), (CHECKSUM_182_TOP, "")]}
    writes = dict((w.path, w) for w in plan.writes())
    metadata = writes[os.path.join("image", "vfs", "distribution", "v2metadata-by-diffid", "sha256",
                                   EMPTY_LAYER_DIFF_ID.split(":")[1])]
    assert metadata.data == (('[{"Digest":"%s","SourceRepository":""},{"Digest":"%s","SourceRepository":""}]'
                              % (CHECKSUM_182_BASE, CHECKSUM_182_TOP)).encode())
    # a real layer store registers a chain once: two chains for four images
    assert [layer.chain for layer in plan.new_layers] == chain_ids([EMPTY_LAYER_DIFF_ID, EMPTY_LAYER_DIFF_ID])
    # in graph order (sorted names, parents first): 17583c7d's chain is the same as id2's and comes first
    assert [layer.cache_id for layer in plan.new_layers] == [id1, BUSYBOX_182_TOP_V1]


def test_migrate_containers(tmp_path):
    """TestMigrateContainers: the container of a migrated image gets config.v2.json pointing at it and a
    mount whose parent is the chain of the image's rootfs; the one whose image was not migrated is left."""
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "graph"))
    image = "sha256:" + hashlib.sha256(CONTAINER_IMAGE_CONFIG).hexdigest()
    _write(os.path.join(root, "image", "overlay", "imagedb", "content", "sha256", image[7:]), CONTAINER_IMAGE_CONFIG)
    _write(os.path.join(root, ".migration-v1-images.json"), json.dumps({CONTAINER_OK_V1_IMAGE: image}) + "\n")
    diff_ids = json.loads(CONTAINER_IMAGE_CONFIG)["rootfs"]["diff_ids"]
    for index, chain in enumerate(chain_ids(diff_ids)):  # the image's layers, registered before
        layer = os.path.join(root, "image", "overlay", "layerdb", "sha256", chain[7:])
        _write(os.path.join(layer, "diff"), diff_ids[index])
        _write(os.path.join(layer, "size"), "0")
        _write(os.path.join(layer, "cache-id"), str(index) * 64)
        if index:
            _write(os.path.join(layer, "parent"), chain_ids(diff_ids)[index - 1])
    for container, v1_image in ((CONTAINER_OK, CONTAINER_OK_V1_IMAGE), (CONTAINER_BAD, CONTAINER_BAD_V1_IMAGE)):
        _write(os.path.join(root, "containers", container, "config.json"), _CONTAINER % (container, v1_image))
        os.makedirs(os.path.join(root, "overlay", container))
    plan = plan_migration(root, "overlay")
    assert plan.new_mounts == [(CONTAINER_OK, CONTAINER_OK, "", CONTAINER_MOUNT_PARENT)]
    assert chain_id(diff_ids) == CONTAINER_MOUNT_PARENT
    configs = dict(plan.container_configs)
    assert list(configs) == [CONTAINER_OK]
    migrated = json.loads(configs[CONTAINER_OK])
    assert migrated["Image"] == image
    original = json.loads(_CONTAINER % (CONTAINER_OK, CONTAINER_OK_V1_IMAGE))
    assert dict(migrated, Image=None) == dict(original, Image=None)
    # json.Marshal of the map: keys sorted, values as they were (compacted)
    assert configs[CONTAINER_OK].startswith(b'{"AppArmorProfile":"","Args":[],"Config":{"Hostname":"f780ee3f80e6",')
    statuses = dict((c.id, c.status) for c in plan.containers)
    assert statuses == {CONTAINER_OK: MIGRATED, CONTAINER_BAD: SKIPPED}


def test_migrate_refs():
    """TestMigrateRefs: tags and digests of migrated images; registry:latest's image was not migrated."""
    repositories, outcomes = migrate_refs(decode_repositories(REFS_LEGACY), REFS_MAPPINGS, {})
    added = dict((o.reference, o.image_id) for o in outcomes if o.added)
    assert added == REFS_EXPECTED
    assert [o.legacy for o in outcomes if not o.added] == ["registry:latest"]
    assert repositories == {"busybox": {"busybox:latest": REFS_EXPECTED["busybox:latest"],
                                        "busybox@sha256:16a2a52884c2a9481ed267c2d46483eac7693b813a63132368ab098a71303f8a":
                                        REFS_EXPECTED["busybox:latest"]},
                            "registry": {"registry:2": REFS_EXPECTED["registry:2"]}}


def test_migrate_refs_runs_once(tmp_path):
    """TestMigrateRefs, second part: with .migration-v1-tags present a new repositories file is ignored."""
    root = str(tmp_path)
    os.makedirs(os.path.join(root, "graph"))
    _write(os.path.join(root, ".migration-v1-images.json"), json.dumps(REFS_MAPPINGS))
    _write(os.path.join(root, "repositories-generic"), REFS_LEGACY)
    plan = plan_migration(root, "generic")
    assert dict((t.reference, t.image_id) for t in plan.tags if t.added) == REFS_EXPECTED
    assert plan.tags_migrated
    _write(os.path.join(root, ".migration-v1-tags"), b"")
    _write(os.path.join(root, "repositories-generic"), b'{"Repositories":{"busybox":{"latest":"b3ca410aa2c1')
    again = plan_migration(root, "generic")
    assert again.tags == [] and again.tags_already and not again.tags_migrated


def test_repositories_json_bytes():
    """reference/store_test.go: marshalledSaveLoadTestCases is what the store writes for saveLoadTestCases."""
    repositories = {}
    for (name, tag), image in SAVE_LOAD_CASES.items():
        repo, reference = reference_for(name, tag)
        repositories.setdefault(repo, {})[reference] = image
    assert render_repositories(repositories) == MARSHALLED_SAVE_LOAD
    assert decode_repositories(MARSHALLED_SAVE_LOAD) == repositories


def test_config_keys_sorted():
    """image/image_test.go TestMarshalKeyOrder: architecture, author, comment come out in that order."""
    v1 = b'{"comment":"a","author":"b","architecture":"c","created":"2016-01-01T00:00:00Z","docker_version":"1.9.1"}'
    config = build_image_config(v1, EMPTY_LAYER_DIFF_ID).config.decode()
    assert config.index('"architecture"') < config.index('"author"') < config.index('"comment"')


@pytest.mark.parametrize("name, tag, expected", [
    ("ubuntu", "14.04", "ubuntu:14.04"),
    ("library/ubuntu", "14.04", "ubuntu:14.04"),
    ("docker.io/library/ubuntu", "14.04", "ubuntu:14.04"),
    ("index.docker.io/fleetops/app", "1", "fleetops/app:1"),
    ("localhost/app", "1", "localhost/app:1"),
    ("Registry.Example.com:5000/app", "v1", "Registry.Example.com:5000/app:v1"),
])
def test_reference_normalisation(name, tag, expected):
    assert reference_for(name, tag)[1] == expected


@pytest.mark.parametrize("name, tag", [
    ("Ubuntu", "latest"), ("ubuntu", "-bad"), ("ubuntu", "a" * 129), ("a" * 64, "latest"), ("sha256", "latest"),
    ("ubuntu", u"caf\u00e9"),
])
def test_reference_rejected(name, tag):
    with pytest.raises(ValueError):
        reference_for(name, tag)


# --- the config, beyond moby's vectors ----------------------------------------------------------

def test_raw_path_keeps_nested_bytes():
    """docker_version >= 1.8.3: nested values stay as written (key order, escapes, unknown fields),
    only compacted and HTML-escaped; top-level keys are sorted; exactly the six keys are dropped."""
    v1 = (b'{"id":"x","parent":"y","Size":3,"size":4,"parent_id":"sha256:00","layer_id":"z","throwaway":true,'
          b'"docker_version":"1.9.1","created":"2016-01-04T10:00:00.000000001Z","os":"linux",'
          b'"container_config":{"Cmd": ["/bin/sh", "-c", "a && b <c> \\u00e9"], "Zeta": 1, "Alpha": {"b": 1, "a": 2}},'
          b'"config":{"Env":["A=\xc3\xa9"],"Labels":{"z":"1","a":"2"}}}')
    built = build_image_config(v1, EMPTY_LAYER_DIFF_ID)
    assert built.config == (
        b'{"config":{"Env":["A=\xc3\xa9"],"Labels":{"z":"1","a":"2"}},'
        b'"container_config":{"Cmd":["/bin/sh","-c","a \\u0026\\u0026 b \\u003cc\\u003e \\u00e9"],"Zeta":1,'
        b'"Alpha":{"b":1,"a":2}},"created":"2016-01-04T10:00:00.000000001Z","docker_version":"1.9.1",'
        b'"history":[{"created":"2016-01-04T10:00:00.000000001Z","created_by":"/bin/sh -c a \\u0026\\u0026 b '
        b'\\u003cc\\u003e \xc3\xa9"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["' + EMPTY_LAYER_DIFF_ID.encode()
        + b'"]},"size":4}')


def test_fallback_path_goes_through_the_structs():
    """docker_version < 1.8.3: V1Image and container.Config field order, omitempty, unknown fields gone."""
    v1 = (b'{"docker_version":"1.6.2","created":"2015-08-19T16:49:07.568027497+02:00","author":"me",'
          b'"comment":"","extra":1,"container_config":{"Cmd":"echo hi","Memory":0,"User":"u","ExposedPorts":{"80/tcp":{}},'
          b'"Labels":{"b":"2","a":null},"OnBuild":[]},"config":null,"Size":5}')
    built = build_image_config(v1, EMPTY_LAYER_DIFF_ID)
    assert built.config == (
        b'{"author":"me","container_config":{"Hostname":"","Domainname":"","User":"u","AttachStdin":false,'
        b'"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"80/tcp":{}},"Tty":false,"OpenStdin":false,'
        b'"StdinOnce":false,"Env":null,"Cmd":["echo hi"],"Image":"","Volumes":null,"WorkingDir":"",'
        b'"Entrypoint":null,"OnBuild":[],"Labels":{"a":"","b":"2"}},"created":"2015-08-19T16:49:07.568027497+02:00",'
        b'"docker_version":"1.6.2","history":[{"created":"2015-08-19T16:49:07.568027497+02:00","author":"me",'
        b'"created_by":"echo hi"}],"rootfs":{"type":"layers","diff_ids":["' + EMPTY_LAYER_DIFF_ID.encode() + b'"]}}')


@pytest.mark.parametrize("version, less", [
    ("1.8.2", True), ("1.8.3", False), ("1.9.1", False), ("1.10.0", False), ("", True), ("1.8.3-rc1", True),
    ("1.9.0-dev", False), ("1.8", True), ("2", False), ("1.8.3.0", False),
])
def test_docker_version_rule(version, less):
    assert version_less_than(version, "1.8.3") is less


@pytest.mark.parametrize("v1", [
    b'{"created":null}',                               # time.Time.UnmarshalJSON of null fails in Go 1.5
    b'{"created":"yesterday"}',
    b'{"Size":"12"}',
    b'{"container_config":{"Cmd":[1]}}',
    b'{"container_config":{"Env":"A=1"}}',
    b'{"config":{"Tty":"yes"}}',
    b'[]',
    b'{"docker_version":1.9}',
])
def test_configs_docker_rejects(v1):
    with pytest.raises(ConfigError):
        build_image_config(v1, EMPTY_LAYER_DIFF_ID)


def test_case_insensitive_fields_and_missing_created():
    """Go matches struct fields case-insensitively; a missing created is the zero time in the history."""
    v1 = b'{"Docker_Version":"1.9.1","CONTAINER_CONFIG":{"cmd":["a","b"]},"Comment":"c"}'
    history = json.loads(build_image_config(v1, EMPTY_LAYER_DIFF_ID).config)["history"]
    assert history == [{"created": "0001-01-01T00:00:00Z", "created_by": "a b", "comment": "c"}]
