; Inno Setup script for 救助通: a per-user install of the PyInstaller folder dist\jiuzhu\.
;
; Built by packaging\build.ps1, which passes the version read from pyproject.toml:
;   iscc /DAppVersion=0.1.0 /DAppVersionNumeric=0.1.0.0 packaging\jiuzhu.iss
; This file is UTF-8 with a byte-order mark: Inno Setup reads it as ANSI without one and garbles the Chinese.
;
; Data and upgrades
; - The program goes to %LOCALAPPDATA%\Programs\jiuzhu ({autopf} for a per-user install). The caseworker's
;   data - the database jiuzhu.sqlite3, its backups\, attachments, logs\ and the county's own policies\
;   (which override the bundled _internal\policies) - lives in another folder,
;   %LOCALAPPDATA%\jiuzhu (platformdirs.user_data_dir("jiuzhu", appauthor=False), app/store/paths.py),
;   which the app creates on first start. This installer never writes to it, and nothing below names it.
; - AppId never changes, so a newer setup finds the old install and replaces it in place; the data folder
;   is untouched and the new version migrates the database on its first start (after backing it up).
; - Uninstalling removes the program files only. It deliberately does NOT delete %LOCALAPPDATA%\jiuzhu:
;   the records of a county's medical assistance must outlive a reinstall. Delete it by hand if wanted.
; - Never point DefaultDirName at the data folder: [InstallDelete] below empties {app}\_internal.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z (packaging\build.ps1 reads it from pyproject.toml)
#endif
#ifndef AppVersionNumeric
  #define AppVersionNumeric "0.0.0.0"
#endif
#ifndef BundleDir
  #define BundleDir AddBackslash(SourcePath) + "..\dist\jiuzhu"
#endif

[Setup]
; Fixed forever: it is how Windows and the next setup recognise this program. Do not regenerate it.
AppId={{9264D36C-8AF9-4A79-9C60-21F25950BBD8}
AppName=救助通
AppVersion={#AppVersion}
AppVerName=救助通 {#AppVersion}
AppPublisher=救助通
VersionInfoVersion={#AppVersionNumeric}
VersionInfoProductName=救助通
VersionInfoDescription=救助通 安装程序
; Per user: no administrator rights needed on a township office PC.
PrivilegesRequired=lowest
DefaultDirName={autopf}\jiuzhu
DefaultGroupName=救助通
DisableProgramGroupPage=yes
UsePreviousAppDir=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
SetupIconFile=..\resources\icons\jiuzhu.ico
UninstallDisplayIcon={app}\jiuzhu.exe
UninstallDisplayName=救助通
OutputDir=..\dist
OutputBaseFilename=jiuzhu-setup-{#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; An upgrade while the app is open: close it (Restart Manager) rather than fail on locked files.
CloseApplications=yes
RestartApplications=no
ShowLanguageDialog=auto

[Languages]
; English is the fallback; the Chinese wizard is used on a Chinese Windows when Inno Setup has the file.
; Recent Inno Setup releases ship ChineseSimplified.isl among the official languages; older ones have it only
; as an unofficial translation (https://jrsoftware.org/files/istrans/), which may be put beside this script.
Name: "english"; MessagesFile: "compiler:Default.isl"
#if FileExists(AddBackslash(CompilerPath) + "Languages\ChineseSimplified.isl")
Name: "chinesesimplified"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"
#elif FileExists(AddBackslash(SourcePath) + "ChineseSimplified.isl")
Name: "chinesesimplified"; MessagesFile: "ChineseSimplified.isl"
#else
  #pragma message "ChineseSimplified.isl not found: the setup wizard will be in English only"
#endif

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; The previous version's bundled libraries: stale modules must not mix with the new ones. Program files only.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
; jiuzhu.exe is the windowed app; jiuzhu-cli.exe the console twin for `check`, `backup`, `--version`.
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\救助通"; Filename: "{app}\jiuzhu.exe"
Name: "{autodesktop}\救助通"; Filename: "{app}\jiuzhu.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\jiuzhu.exe"; Description: "{cm:LaunchProgram,救助通}"; Flags: nowait postinstall skipifsilent

; No [UninstallDelete] section on purpose: see "Data and upgrades" at the top.
