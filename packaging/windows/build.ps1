<#
.SYNOPSIS
  Builds Desktop Assistant for Windows: dist\desktop-assistant\ (PyInstaller, one folder), a zip of it, and
  dist\Desktop-Assistant-<version>-windows-x64-setup.exe (Inno Setup 6).

.DESCRIPTION
  Run from a checkout after:
      py -3.11 -m venv .venv
      .venv\Scripts\python -m pip install ".[dev]"
  then:
          powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1 [-BundleOnly]
  (Windows PowerShell 5.1 or PowerShell 7.)

  It installs PyInstaller into the venv when missing, reinstalls the checkout into the venv (no dependencies) when
  the installed desktop-assistant is missing, renders the icons (packaging\make_icons.py -> .ico), freezes with the
  shared spec (packaging\desktop-assistant.spec), checks the frozen executable, zips the bundle and compiles the
  installer with ISCC.exe (Inno Setup 6: https://jrsoftware.org/isinfo.php, or `choco install innosetup`).

  Signing (optional): with $env:DA_SIGN_CERT_SHA1 set to the thumbprint of a code-signing certificate in the
  user's certificate store, signtool.exe signs the executable and the installer (with an RFC 3161 timestamp).
#>
param(
  [string]$Python = "",
  [switch]$BundleOnly
)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

function Invoke-Native {
  # Invoke-Native PROGRAM ARGS...: runs it and stops on a non-zero exit code (PowerShell does not). A plain
  # function on purpose: "-m" and the like reach the program instead of being taken as PowerShell parameters.
  $exe = $args[0]
  $rest = @($args | Select-Object -Skip 1)
  $saved = $ErrorActionPreference
  $ErrorActionPreference = "Continue"  # Windows PowerShell 5.1 turns a native program's stderr into errors
  try { & $exe @rest } finally { $ErrorActionPreference = $saved }
  if ($LASTEXITCODE -ne 0) { throw "$exe $($rest -join ' ') failed with exit code $LASTEXITCODE" }
}

function Test-Python([string]$Code) {
  # True when `python -c CODE` succeeds (its output, and any error, are dropped).
  $saved = $ErrorActionPreference
  $ErrorActionPreference = "Continue"
  try { & $Python -c $Code *> $null } finally { $ErrorActionPreference = $saved }
  return ($LASTEXITCODE -eq 0)
}

$Root = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
if (-not $Python) { $Python = Join-Path $Root ".venv\Scripts\python.exe" }
if (-not (Test-Path $Python)) { throw "No Python at ${Python}: create .venv and pip install '.[dev]' first" }
$Started = Get-Date
$env:QT_QPA_PLATFORM = "offscreen"

# 1. The package to freeze: the installed desktop-assistant (with its metadata, which holds the version).
if (-not (Test-Python "import importlib.metadata as m; m.version('desktop-assistant')")) {
  Write-Host "== installing desktop-assistant from the checkout (no dependencies)"
  Invoke-Native $Python -m pip install -q --no-deps --force-reinstall $Root
}
$Version = (& $Python -c "import importlib.metadata as m; print(m.version('desktop-assistant'))").Trim()
$Parts = @($Version -split '[^0-9]+' | Where-Object { $_ -ne "" } | Select-Object -First 3)
while ($Parts.Count -lt 4) { $Parts += "0" }
$NumericVersion = $Parts -join "."

# 2. PyInstaller (and certifi for the spec's fallback CA bundle, used on Linux only but harmless here).
if (-not (Test-Python "import PyInstaller, certifi")) {
  Write-Host "== installing PyInstaller"
  Invoke-Native $Python -m pip install -q "pyinstaller>=6.10" certifi
}

# 3. Icons, then the bundle.
$Build = Join-Path $Root "build"
$Dist = Join-Path $Root "dist"
$Icons = Join-Path $Build "icons"
$Bundle = Join-Path $Dist "desktop-assistant"
foreach ($path in @($Icons, (Join-Path $Build "pyinstaller"), $Bundle)) {
  if (Test-Path $path) { Remove-Item -Recurse -Force $path }
}
Invoke-Native $Python (Join-Path $Root "packaging\make_icons.py") $Icons
Write-Host "== freezing desktop-assistant $Version with PyInstaller"
New-Item -ItemType Directory -Force (Join-Path $Build "pyinstaller") | Out-Null
$env:DA_ICON_DIR = $Icons
Push-Location (Join-Path $Build "pyinstaller")  # no checkout on sys.path: the installed package is frozen
try {
  Invoke-Native $Python -m PyInstaller --noconfirm --clean --log-level WARN --distpath $Dist `
    --workpath (Join-Path $Build "pyinstaller") (Join-Path $Root "packaging\desktop-assistant.spec")
} finally {
  Pop-Location
}
$Exe = Join-Path $Bundle "desktop-assistant.exe"
if (-not (Test-Path $Exe)) { throw "no executable at $Exe" }
# a windowed executable: check that it starts and exits cleanly (its stdout is not a console)
$Check = Start-Process -FilePath $Exe -ArgumentList "--version" -PassThru -Wait -WindowStyle Hidden
if ($Check.ExitCode -ne 0) { throw "$Exe --version exited with $($Check.ExitCode)" }
$Size = (Get-ChildItem -Recurse -File $Bundle | Measure-Object -Sum Length).Sum / 1MB
Write-Host ("bundle: {0} ({1:N0} MiB)" -f $Bundle, $Size)

if ($env:DA_SIGN_CERT_SHA1) {
  Invoke-Native signtool.exe sign /sha1 $env:DA_SIGN_CERT_SHA1 /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 $Exe
}
if ($BundleOnly) { Write-Host ("== done in {0:N0} s" -f ((Get-Date) - $Started).TotalSeconds); exit 0 }

# 4. A zip of the bundle (portable: unzip anywhere and run desktop-assistant.exe).
$Zip = Join-Path $Dist "desktop-assistant-$Version-windows-x64.zip"
if (Test-Path $Zip) { Remove-Item -Force $Zip }
Compress-Archive -Path $Bundle -DestinationPath $Zip
Write-Host ("zip: {0} ({1:N0} MiB)" -f $Zip, ((Get-Item $Zip).Length / 1MB))

# 5. The installer.
$Iscc = (Get-Command ISCC.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) {
  foreach ($candidate in @("${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
                           "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe")) {
    if (Test-Path $candidate) { $Iscc = $candidate; break }
  }
}
if (-not $Iscc) { throw "ISCC.exe (Inno Setup 6) not found: install it (choco install innosetup) or pass -BundleOnly" }
Invoke-Native $Iscc /Q "/DAppVersion=$Version" "/DNumericVersion=$NumericVersion" "/DBundleDir=$Bundle" `
  "/DIconFile=$(Join-Path $Icons 'desktop-assistant.ico')" "/DOutputDir=$Dist" `
  (Join-Path $Root "packaging\windows\desktop-assistant.iss")
$Setup = Join-Path $Dist "Desktop-Assistant-$Version-windows-x64-setup.exe"
if (-not (Test-Path $Setup)) { throw "ISCC did not produce $Setup" }
if ($env:DA_SIGN_CERT_SHA1) {
  Invoke-Native signtool.exe sign /sha1 $env:DA_SIGN_CERT_SHA1 /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 $Setup
}
Write-Host ("installer: {0} ({1:N0} MiB)" -f $Setup, ((Get-Item $Setup).Length / 1MB))
Write-Host ("== done in {0:N0} s" -f ((Get-Date) - $Started).TotalSeconds)
