; Inno Setup 6 script for Desktop Assistant (compiled by packaging\windows\build.ps1).
;
;   ISCC.exe /DAppVersion=0.1.0 /DNumericVersion=0.1.0.0 /DBundleDir=<dist\desktop-assistant>
;            /DIconFile=<build\icons\desktop-assistant.ico> /DOutputDir=<dist> packaging\windows\desktop-assistant.iss
;
; Installs the PyInstaller bundle per user (no administrator rights: %LOCALAPPDATA%\Programs\Desktop Assistant),
; or for all users (Program Files) when the user picks that in the first page; a Start menu entry, optionally a
; desktop icon; an uninstaller that leaves the user's conversations and settings (in %LOCALAPPDATA%) alone.

#define AppName "Desktop Assistant"
#define AppExe "desktop-assistant.exe"
#ifndef AppVersion
  #error Pass /DAppVersion=<version> (packaging\windows\build.ps1 does)
#endif
#ifndef NumericVersion
  #define NumericVersion "0.0.0.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\desktop-assistant"
#endif
#ifndef IconFile
  #define IconFile "..\..\build\icons\desktop-assistant.ico"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
; AppId identifies the app for upgrades and uninstall: never change it.
AppId={{300B98E8-E72F-4F2C-B813-BE3AFEEB627A}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Desktop Assistant contributors
VersionInfoVersion={#NumericVersion}
VersionInfoProductName={#AppName}
VersionInfoDescription={#AppName} installer
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir={#OutputDir}
OutputBaseFilename=Desktop-Assistant-{#AppVersion}-windows-x64-setup
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; close a running copy before replacing its files
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; an upgrade replaces the bundle whole: no module of an older version may linger next to the new ones
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
