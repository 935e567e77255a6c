#!/bin/bash
# webtier web server bootstrap: httpd with PHP-FPM, the shared EFS, and three pages.
# Placeholders between double at-signs are filled at synth time by constructs/fleet.go (Terraform references).
#%% (A note of the template, left out of the user data:) placeholders between double percent signs are
#%% the pages' declaration (package site: paths, pools, what each page shows), filled first.
set -euo pipefail

# A step that fails leaves a line on the instance's console output (EC2 GetConsoleOutput), so
# an operator sees why the health check never passes without logging in.
fail() {
    echo "webtier bootstrap FAILED: $*" | tee /dev/console >&2
    exit 1
}

# retry N SECONDS CMD...: runs CMD up to N times, SECONDS apart, and says what it is doing.
retry() {
    local tries=$1 pause=$2 i
    shift 2
    for ((i = 1; i <= tries; i++)); do
        "$@" && return 0
        echo "webtier bootstrap: attempt $i of $tries failed: $*" | tee /dev/console >&2
        ((i < tries)) && sleep "$pause"
    done
    return 1
}

# The packages come from the region's AL2023 repositories (S3) through the NAT gateway.
# AL2023 has no mod_php: PHP runs as PHP-FPM, which httpd's php.conf proxies .php files to.
retry 5 20 dnf install -y httpd php-fpm php-cli php-mysqlnd amazon-efs-utils ||
    fail "dnf could not install the packages: check that repo_cidrs covers the region's S3 ranges (or use the S3 gateway endpoint) and the NAT route"

# Requirement 6: every web server mounts the one shared file system, over TLS and signed with
# the instance's role (iam: the file-system policy lets no anonymous client in), at boot too.
# nofail: a boot never hangs on the file system; the mount below retries while the mount
# target's DNS name becomes resolvable (it can lag a fresh mount target by a minute).
mkdir -p %%SHARED_DIR%%
grep -q '@@EFS_ID@@' /etc/fstab || echo '@@EFS_ID@@:/ %%SHARED_DIR%% efs _netdev,noresvport,tls,iam,nofail 0 0' >> /etc/fstab
retry 10 15 mount %%SHARED_DIR%% || fail "the shared file system @@EFS_ID@@ did not mount"

# Where the database is. The password is read from Secrets Manager and cached for 5 minutes
# in /run/webtier (tmpfs, readable by the PHP-FPM user only), not on every request.
mkdir -p /etc/webtier
echo 'd /run/webtier 0700 apache apache -' > /etc/tmpfiles.d/webtier.conf
systemd-tmpfiles --create /etc/tmpfiles.d/webtier.conf
cat > /etc/webtier/db.ini <<'INI'
host = "@@DB_HOST@@"
name = "@@DB_NAME@@"
secret_arn = "@@SECRET_ARN@@"
region = "@@REGION@@"
INI
chmod 0640 /etc/webtier/db.ini
chgrp apache /etc/webtier/db.ini

# The load-balancing test: which instance answered, read with IMDSv2 tokens.
cat > %%INDEX_FILE%% <<'PHP'
<?php
function imds($path, $token) {
    $ctx = stream_context_create(['http' => ['timeout' => 2,
        'header' => "X-aws-ec2-metadata-token: $token"]]);
    return @file_get_contents("http://169.254.169.254/latest/meta-data/$path", false, $ctx) ?: '-';
}
$token = @file_get_contents('http://169.254.169.254/latest/api/token', false,
    stream_context_create(['http' => ['method' => 'PUT', 'timeout' => 2,
        'header' => 'X-aws-ec2-metadata-token-ttl-seconds: 60']]));
$rows = [
%%INDEX_ROWS%%];
$shared = array_values(array_diff(scandir('%%SHARED_DIR%%') ?: [], ['.', '..']));
?>
<!doctype html><title>webtier</title>
<h1>Instance data</h1>
<table border="1"><tr><th>Data</th><th>Value</th></tr>
<?php foreach ($rows as $k => $v): ?>
<tr><td><?= htmlspecialchars($k) ?></td><td><?= htmlspecialchars($v) ?></td></tr>
<?php endforeach; ?>
</table>
<h2>%%SHARED_HEADING%%</h2>
<ul><?php foreach ($shared as $f): ?><li><?= htmlspecialchars($f) ?></li><?php endforeach; ?></ul>
<p><a href="%%DB_URL%%">Database page</a></p>
PHP

# The failover test: the same endpoint answers before and after a failover. Visitors get a
# generic error; the details go to PHP-FPM's error log (/var/log/php-fpm/www-error.log).
cat > %%DB_FILE%% <<'PHP'
<?php
const SECRET_CACHE = '/run/webtier/db-secret.json';
const SECRET_TTL = 300;

function fail_page(string $why): void {
    error_log('%%DB_LOG_PREFIX%%' . $why);
    http_response_code(503);
    exit('%%DB_UNAVAILABLE%%');
}

// The master credentials, from the cache while it is fresh, else from Secrets Manager.
function db_secret(array $cfg): array {
    if (is_readable(SECRET_CACHE) && time() - filemtime(SECRET_CACHE) < SECRET_TTL) {
        $secret = json_decode((string) file_get_contents(SECRET_CACHE), true);
        if (is_array($secret)) {
            return $secret;
        }
    }
    $out = shell_exec('aws secretsmanager get-secret-value --region ' . escapeshellarg($cfg['region'])
        . ' --secret-id ' . escapeshellarg($cfg['secret_arn']) . ' --query SecretString --output text 2>&1');
    $secret = json_decode((string) $out, true);
    if (!is_array($secret)) {
        fail_page('cannot read the database secret: ' . trim((string) $out));
    }
    $tmp = tempnam(dirname(SECRET_CACHE), 'secret');
    file_put_contents($tmp, json_encode($secret));
    rename($tmp, SECRET_CACHE);
    return $secret;
}

$cfg = parse_ini_file('/etc/webtier/db.ini');
$secret = db_secret($cfg);
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
try {
    // A few seconds, not PHP's default 60: during a failover (60-120 s) a request fails fast
    // instead of holding a PHP-FPM worker until the pool is full.
    $db = mysqli_init();
    $db->options(MYSQLI_OPT_CONNECT_TIMEOUT, 3);
    $db->options(MYSQLI_OPT_READ_TIMEOUT, 5);
    // Over TLS: the parameter group's require_secure_transport refuses a connection in the
    // clear. The server's certificate is not verified: the RDS CA bundle is not on the web
    // servers (they reach no host that publishes it; see the README).
    $db->real_connect($cfg['host'], $secret['username'], $secret['password'], $cfg['name'], 3306, null,
        MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_DONT_VERIFY_SERVER_CERT);
    $db->query('%%PRACTICE_CREATE%%');
    $db->query("%%PRACTICE_INSERT%%");
    $result = $db->query('%%PRACTICE_SELECT%%');
} catch (mysqli_sql_exception $e) {
    if ($e->getCode() === 1045) {
        @unlink(SECRET_CACHE); // access denied: a rotated password is read again next time
    } // any other error (the failover) keeps the secret: no AWS CLI call per request
    fail_page('database error: ' . $e->getMessage());
}
?>
<!doctype html><title>webtier database</title>
<h1>RDS Practice</h1>
<p>Endpoint <?= htmlspecialchars($cfg['host']) ?> resolves to <?= htmlspecialchars(gethostbyname($cfg['host'])) ?></p>
<table border="1"><tr><th>ID</th><th>NAME</th><th>ADDRESS</th></tr>
<?php while ($row = $result->fetch_assoc()): ?>
<tr><td><?= (int) $row['id'] ?></td><td><?= htmlspecialchars($row['name']) ?></td><td><?= htmlspecialchars($row['address']) ?></td></tr>
<?php endwhile; ?>
</table>
PHP

# PHP-FPM sized to the instance: one worker per 64 MiB beyond 256 MiB for the system, 5 to 50,
# and a request that runs 30 s is ended. The health page has a pool of its own (2 workers),
# so a database failover that fills the site's pool never fails the ALB's health checks and
# the group never replaces healthy servers for it.
mem_mib=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
workers=$(( (mem_mib - 256) / 64 )); (( workers < 5 )) && workers=5; (( workers > 50 )) && workers=50
cat > /etc/php-fpm.d/zz-webtier-size.conf <<FPM
[%%SITE_POOL%%]
pm = dynamic
pm.max_children = $workers
pm.start_servers = 2
pm.min_spare_servers = 2
pm.max_spare_servers = $(( workers / 2 > 2 ? workers / 2 : 3 ))
request_terminate_timeout = 30s
FPM
cat > /etc/php-fpm.d/health.conf <<'FPM'
[%%HEALTH_POOL%%]
user = apache
group = apache
listen = /run/php-fpm/%%HEALTH_POOL%%.sock
listen.acl_users = apache
pm = static
pm.max_children = 2
request_terminate_timeout = 5s
FPM
cat > /etc/httpd/conf.d/webtier-health.conf <<'HTTPD'
<Location "@@HEALTH_PATH@@">
    SetHandler "proxy:unix:/run/php-fpm/%%HEALTH_POOL%%.sock|fcgi://%%HEALTH_POOL%%"
</Location>
HTTPD
systemctl enable --now php-fpm httpd
# Last step: the health check passes only once everything above is in place, and only while
# PHP answers (a PHP page that does not touch the database, so a failover does not take every
# server out of the target group).
cat > %%WEB_ROOT%%@@HEALTH_PATH@@ <<'PHP'
<?php
header('Content-Type: text/plain');
echo "ok\n";
PHP
