# Build 救助通 for Windows: the one-folder bundle dist\jiuzhu\ and, when Inno Setup 6 is installed, the
# installer dist\jiuzhu-setup-<version>.exe.
#
#   powershell -ExecutionPolicy Bypass -File packaging\build.ps1 [-Venv .venv] [-NoInstaller]
#
# Needs Python 3.11+ (the `py` launcher) and, for the installer, Inno Setup 6.3 or newer (ISCC.exe on PATH or
# in its default folder). The venv is created from requirements.lock when it does not exist yet.
param(
    [string]$Venv = "",
    [switch]$NoInstaller
)
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path (Join-Path $PSScriptRoot "..")).Path
Set-Location $Root
if (-not $Venv) { $Venv = Join-Path $Root ".venv" }
$Python = Join-Path $Venv "Scripts\python.exe"

function Invoke-Checked {
    # A native command's failure does not stop PowerShell by itself: check its exit code.
    param([string]$Exe, [string[]]$Arguments)
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

if (-not (Test-Path $Python)) {
    Invoke-Checked "py" @("-3.11", "-m", "venv", $Venv)
    Invoke-Checked $Python @("-m", "pip", "install", "-q", "-r", "requirements.lock", "-e", ".")
}

$Watch = [System.Diagnostics.Stopwatch]::StartNew()
Invoke-Checked $Python @("-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
    "--distpath", (Join-Path $Root "dist"), "--workpath", (Join-Path $Root "build\pyinstaller"),
    "packaging\jiuzhu.spec")
$Bundle = Join-Path $Root "dist\jiuzhu"
$Size = (Get-ChildItem $Bundle -Recurse -File | Measure-Object -Property Length -Sum).Sum / 1MB
Write-Host ("dist\jiuzhu: {0:N0} MB, built in {1:N0} s" -f $Size, $Watch.Elapsed.TotalSeconds)

# The console twin answers at once; the windowed jiuzhu.exe has no console to answer on.
$Cli = Join-Path $Bundle "jiuzhu-cli.exe"
Invoke-Checked $Cli @("--version")

if ($NoInstaller) { exit 0 }
$Version = & $Python -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])"
if ($LASTEXITCODE -ne 0) { throw "could not read the version from pyproject.toml" }
# VersionInfoVersion must be four numbers: 0.1.0rc1 -> 0.1.0.0
$Numbers = @([regex]::Matches($Version, "\d+") | Select-Object -First 4 | ForEach-Object { $_.Value })
while ($Numbers.Count -lt 4) { $Numbers += "0" }
$Numeric = $Numbers -join "."

$Iscc = Get-Command "iscc.exe" -ErrorAction SilentlyContinue | Select-Object -ExpandProperty Source
if (-not $Iscc) {
    $Iscc = @("${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
              "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe") | Where-Object { Test-Path $_ } | Select-Object -First 1
}
if (-not $Iscc) {
    Write-Warning "Inno Setup 6 (ISCC.exe) not found: built dist\jiuzhu only. Install it from https://jrsoftware.org/isdl.php"
    exit 0
}
Invoke-Checked $Iscc @("/DAppVersion=$Version", "/DAppVersionNumeric=$Numeric", "packaging\jiuzhu.iss")
Write-Host "installer: dist\jiuzhu-setup-$Version.exe"
