#!/bin/bash
# webtier web server bootstrap: httpd and PHP, the shared EFS, and two pages.
# Placeholders between double at-signs are filled at synth time by constructs/fleet.go (Terraform references).
set -euo pipefail
dnf install -y httpd php php-mysqlnd amazon-efs-utils

# Requirement 6: every web server mounts the one shared file system, over TLS, at boot too.
mkdir -p /var/www/html/efs
grep -q '@@EFS_ID@@' /etc/fstab || echo '@@EFS_ID@@:/ /var/www/html/efs efs _netdev,noresvport,tls 0 0' >> /etc/fstab
mount /var/www/html/efs

# Where the database is; the password is read from Secrets Manager on each request.
mkdir -p /etc/webtier
cat > /etc/webtier/db.ini <<'INI'
host = "@@DB_HOST@@"
name = "@@DB_NAME@@"
secret_arn = "@@SECRET_ARN@@"
region = "@@REGION@@"
INI
chmod 0640 /etc/webtier/db.ini
chgrp apache /etc/webtier/db.ini

# The load-balancing test: which instance answered, read with IMDSv2 tokens.
cat > /var/www/html/index.php <<'PHP'
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
    'Instance ID' => imds('instance-id', $token),
    'Private IP Address' => imds('local-ipv4', $token),
    'Availability Zone' => imds('placement/availability-zone', $token),
];
$shared = array_values(array_diff(scandir('/var/www/html/efs') ?: [], ['.', '..']));
?>
<!doctype html><title>webtier</title>
<h1>Instance data</h1>
<table border="1"><tr><th>Data</th><th>Value</th></tr>
<?php foreach ($rows as $k => $v): ?>
<tr><td><?= htmlspecialchars($k) ?></td><td><?= htmlspecialchars($v) ?></td></tr>
<?php endforeach; ?>
</table>
<h2>Shared files (EFS at /var/www/html/efs)</h2>
<ul><?php foreach ($shared as $f): ?><li><?= htmlspecialchars($f) ?></li><?php endforeach; ?></ul>
<p><a href="/db.php">Database page</a></p>
PHP

# The failover test: the same endpoint answers before and after a failover.
cat > /var/www/html/db.php <<'PHP'
<?php
$cfg = parse_ini_file('/etc/webtier/db.ini');
$out = shell_exec('aws secretsmanager get-secret-value --region ' . escapeshellarg($cfg['region'])
    . ' --secret-id ' . escapeshellarg($cfg['secret_arn']) . ' --query SecretString --output text');
$secret = json_decode((string) $out, true);
if (!is_array($secret)) {
    http_response_code(503);
    exit('cannot read the database secret');
}
mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
try {
    $db = new mysqli($cfg['host'], $secret['username'], $secret['password'], $cfg['name']);
    $db->query('CREATE TABLE IF NOT EXISTS practice (id INT PRIMARY KEY, name VARCHAR(32), address VARCHAR(64))');
    $db->query("INSERT IGNORE INTO practice VALUES (1, 'KIM', 'SEOUL')");
    $result = $db->query('SELECT id, name, address FROM practice ORDER BY id');
} catch (mysqli_sql_exception $e) {
    http_response_code(503);
    exit('database unavailable: ' . htmlspecialchars($e->getMessage()));
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

systemctl enable --now httpd
# Last step: the health check passes only once everything above is in place.
echo ok > /var/www/html@@HEALTH_PATH@@
