"""Endpoints and credentials of the test servers, for Python tests.

tests/servers/swift/start.sh (S3 API) and tests/servers/moto/start.sh (SQS,
STS) write KEY=VALUE env files; CTest starts them as the fixtures `swift` and
`moto` in ${SDS_BIN_DIR}/servers/{swift,moto}/. This module finds those files
(or takes the same keys from the environment, which wins) and hands out:

    sds_servers.s3()          -> S3 endpoint, region, keys (Swift + s3api)
    sds_servers.moto()        -> SQS/STS endpoint, region, keys (moto_server)
    sds_servers.aws_env(svc)  -> environment for a child `aws` CLI / sds tool
    sds_servers.aws(svc, ...) -> run the AWS CLI against that server

Where the files are looked for, first hit wins:
    $SDS_SWIFT_ENV_FILE / $SDS_MOTO_ENV_FILE
    $SDS_SERVERS_DIR/{swift/swift.env, moto/moto.env}
    $SDS_BIN_DIR/servers/{swift/swift.env, moto/moto.env}   (CTest layout)
    ${TMPDIR:-/tmp}/sds-swift-$SDS_SWIFT_PORT/swift.env      (start.sh default)
    ${TMPDIR:-/tmp}/sds-moto-$SDS_MOTO_PORT/moto.env
A missing server raises ServerUnavailable, with how to start it.
"""
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

__all__ = ['S3Server', 'MotoServer', 'ServerUnavailable', 's3', 'moto',
           'aws_env', 'aws', 'unique_name']


class ServerUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class S3Server:
    endpoint: str        # http://127.0.0.1:18080 (path-style addressing)
    region: str          # us-east-1: SigV4 scopes for another region are refused
    access_key: str      # test:tester (tempauth "account:user"; note the colon)
    secret_key: str      # testing
    vhost_domain: str    # localhost: Host "BUCKET.localhost:PORT" is virtual-hosted
    access_key2: str     # test2:tester2, another account (admin of its own)
    secret_key2: str
    reader_access_key: str  # test:reader, no rights on test's buckets (403s)
    reader_secret_key: str

    @property
    def port(self):
        return int(self.endpoint.rsplit(':', 1)[1].split('/')[0])

    def vhost_endpoint(self, bucket):
        """http://BUCKET.localhost:PORT. libcurl resolves *.localhost to the
        loopback by itself; glibc (Python, the AWS CLI) does not, so there
        connect to 127.0.0.1 and send this host in the Host header."""
        return 'http://%s.%s:%d' % (bucket, self.vhost_domain, self.port)


@dataclass(frozen=True)
class MotoServer:
    endpoint: str        # http://127.0.0.1:18081 for SQS, STS and other services
    region: str          # us-east-1
    access_key: str      # moto does not check signatures: any key works
    secret_key: str
    account_id: str      # 123456789012

    def queue_url(self, name):
        return '%s/%s/%s' % (self.endpoint, self.account_id, name)


def _read_env_file(path):
    values = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#') and '=' in line:
                key, _, value = line.partition('=')
                values[key.strip()] = value.strip()
    return values


def _candidates(kind, port_var, default_port):
    explicit = os.environ.get('SDS_%s_ENV_FILE' % kind.upper())
    if explicit:
        yield explicit
    name = '%s/%s.env' % (kind, kind)
    if os.environ.get('SDS_SERVERS_DIR'):
        yield os.path.join(os.environ['SDS_SERVERS_DIR'], name)
    if os.environ.get('SDS_BIN_DIR'):
        yield os.path.join(os.environ['SDS_BIN_DIR'], 'servers', name)
    port = os.environ.get(port_var, default_port)
    yield os.path.join(tempfile.gettempdir(), 'sds-%s-%s' % (kind, port), '%s.env' % kind)


def _load(kind, port_var, default_port, endpoint_key):
    tried = []
    values = {}
    for path in _candidates(kind, port_var, default_port):
        tried.append(path)
        if os.path.isfile(path):
            values = _read_env_file(path)
            break
    # The environment wins over the file, key by key.
    values.update({k: v for k, v in os.environ.items()
                   if k.startswith(('SDS_S3_', 'SDS_SWIFT_') if kind == 'swift'
                                   else ('SDS_MOTO_', 'SDS_SQS_', 'SDS_STS_'))})
    if not values.get(endpoint_key):
        raise ServerUnavailable(
            'no %s test server: none of %s exists and %s is not set. Start it with '
            'tests/servers/%s/start.sh, or run the test through ctest (fixture "%s").'
            % (kind, ', '.join(tried), endpoint_key, kind, kind))
    return values


def s3():
    v = _load('swift', 'SDS_SWIFT_PORT', '18080', 'SDS_S3_ENDPOINT')
    return S3Server(
        endpoint=v['SDS_S3_ENDPOINT'],
        region=v.get('SDS_S3_REGION', 'us-east-1'),
        access_key=v.get('SDS_S3_ACCESS_KEY', 'test:tester'),
        secret_key=v.get('SDS_S3_SECRET_KEY', 'testing'),
        vhost_domain=v.get('SDS_S3_VHOST_DOMAIN', 'localhost'),
        access_key2=v.get('SDS_S3_ACCESS_KEY2', 'test2:tester2'),
        secret_key2=v.get('SDS_S3_SECRET_KEY2', 'testing2'),
        reader_access_key=v.get('SDS_S3_READER_ACCESS_KEY', 'test:reader'),
        reader_secret_key=v.get('SDS_S3_READER_SECRET_KEY', 'reading'),
    )


def moto():
    v = _load('moto', 'SDS_MOTO_PORT', '18081', 'SDS_MOTO_ENDPOINT')
    return MotoServer(
        endpoint=v['SDS_MOTO_ENDPOINT'],
        region=v.get('SDS_MOTO_REGION', 'us-east-1'),
        access_key=v.get('SDS_MOTO_ACCESS_KEY', 'testing'),
        secret_key=v.get('SDS_MOTO_SECRET_KEY', 'testing'),
        account_id=v.get('SDS_MOTO_ACCOUNT_ID', '123456789012'),
    )


_S3_SERVICES = ('s3', 's3api')
_MOTO_SERVICES = ('sqs', 'sts')


def aws_env(service='s3', base=None):
    """Environment for a child process (the AWS CLI, an sds tool) that talks
    to the test server of `service` ('s3', 'sqs', 'sts'): credentials, region,
    the standard AWS_ENDPOINT_URL_<SERVICE> variables, and no stray profile,
    config file, session token or instance-metadata lookups."""
    env = dict(os.environ if base is None else base)
    for k in ('AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_SESSION_TOKEN',
              'AWS_SECURITY_TOKEN', 'AWS_ENDPOINT_URL', 'AWS_ROLE_ARN',
              'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
              'AWS_CONTAINER_CREDENTIALS_FULL_URI'):
        env.pop(k, None)
    env.update({
        'AWS_CONFIG_FILE': os.devnull,
        'AWS_SHARED_CREDENTIALS_FILE': os.devnull,
        'AWS_EC2_METADATA_DISABLED': 'true',
        'AWS_PAGER': '',
    })
    if service in _S3_SERVICES:
        srv = s3()
        env['AWS_ENDPOINT_URL_S3'] = srv.endpoint
    elif service in _MOTO_SERVICES:
        srv = moto()
        for svc in _MOTO_SERVICES:
            env['AWS_ENDPOINT_URL_' + svc.upper()] = srv.endpoint
    else:
        raise ValueError('unknown service %r (want one of s3, sqs, sts)' % service)
    env.update({
        'AWS_ACCESS_KEY_ID': srv.access_key,
        'AWS_SECRET_ACCESS_KEY': srv.secret_key,
        'AWS_DEFAULT_REGION': srv.region,
        'AWS_REGION': srv.region,
    })
    return env


def aws(service, *args, check=True, input=None, timeout=120):
    """Runs `aws SERVICE ARGS...` against the test server of SERVICE and
    returns the CompletedProcess (text mode, output captured). Raises
    AssertionError with the CLI's stderr when check is true and it fails."""
    exe = shutil.which('aws')
    if not exe:
        raise ServerUnavailable('the AWS CLI (aws) is not on PATH')
    endpoint = s3().endpoint if service in _S3_SERVICES else moto().endpoint
    cmd = [exe, '--endpoint-url', endpoint, service] + [str(a) for a in args]
    proc = subprocess.run(cmd, env=aws_env(service), input=input, text=True,
                          capture_output=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError('%s failed (%d):\n%s%s' % (
            ' '.join(cmd), proc.returncode, proc.stdout, proc.stderr))
    return proc


def unique_name(prefix='sds'):
    """A bucket/queue name no other test (or earlier run) uses: lowercase,
    DNS-compliant, at most 63 characters."""
    return ('%s-%d-%s' % (prefix, os.getpid(), os.urandom(4).hex()))[:63].lower()
