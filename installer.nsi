; Agentry for Windows: a per-user installer (NSIS 3, Modern UI 2), no administrator rights.
;
; packaging/build.py windows builds the payload with PyInstaller and then runs:
;   makensis -WX -DVERSION=0.1.0 -DVIVERSION=0.1.0.0 -DPAYLOAD=dist\agentry
;            -DOUTFILE=dist\Agentry-0.1.0-setup.exe installer.nsi
; PAYLOAD is PyInstaller's one-folder output: agentry.exe (the windowed app),
; agentry-cli.exe (its console twin: the CLI, the runners, the demo agent and the agents'
; hook command) and _internal\. CI compiles this script on Linux against the Linux bundle
; with -DFOREIGN_PAYLOAD to check it (that installer is never run).
;
; On the user's machine, in %LOCALAPPDATA%\Programs\Agentry ($INSTDIR):
;   app-<version>\          the payload, one folder per version (see below)
;   agentry.cmd             the command line: runs the current version's agentry-cli.exe
;   Uninstall Agentry.exe
; Tasks, logs and settings live in %LOCALAPPDATA%\Agentry, never under $INSTDIR, so an
; upgrade or uninstall leaves them alone unless the user asks for them to go.
;
; Why one folder per version: every running agent has a runner process started from
; agentry-cli.exe, which holds that file and the DLLs in _internal\ open for as long as
; the agent runs. Windows cannot overwrite or delete files that are in use, and agents must
; keep running through an upgrade. So the new version is installed beside the old one; the
; app is asked to quit (keeping its agents), the new one reattaches them, and an old
; folder is deleted as soon as nothing runs from it: during this install, or at the next
; sign-in (a per-user RunOnce entry; no administrator rights needed).
;
; Options: /S (silent), /AUTOSTART=1|0 (start at sign-in; default: as before, off on a
; fresh install), /D=FOLDER (fresh installs only). The uninstaller: /S, and /REMOVEDATA to
; remove tasks, logs and settings too (kept otherwise).
;
; Accepted makensis warnings: none. CI (packaging/ci.sh) compiles with -WX, so any warning
; fails the build; to accept one, disable it here with `!pragma warning disable <number>`
; and a comment saying why.

Unicode true
ManifestDPIAware true
RequestExecutionLevel user
SetCompressor /SOLID lzma
SetCompressorDictSize 64

!ifndef VERSION
  !error "Pass the version: makensis -DVERSION=x.y.z (packaging/build.py does)"
!endif
!ifndef PAYLOAD
  !error "Pass PyInstaller's output folder: makensis -DPAYLOAD=dist\agentry"
!endif
!ifndef VIVERSION
  !define VIVERSION "${VERSION}.0"
!endif
!ifndef OUTFILE
  !define OUTFILE "Agentry-${VERSION}-setup.exe"
!endif

!define PRODUCT "Agentry"
!define PUBLISHER "Agentry developers"
!define DESCRIPTION "Run and supervise local AI coding agents, and never lose them."
!define CONTENTS "_internal"
!define APPDIR "$INSTDIR\app-${VERSION}"
!define APP_EXE "${APPDIR}\agentry.exe"
!define CLI_EXE "${APPDIR}\agentry-cli.exe"
!define UNINSTALLER "Uninstall Agentry.exe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Agentry"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define RUNONCE_KEY "Software\Microsoft\Windows\CurrentVersion\RunOnce"
!define TASKBAR_PINS "$APPDATA\Microsoft\Internet Explorer\Quick Launch\User Pinned\TaskBar"
!define DATA_DIR "$LOCALAPPDATA\Agentry"

; The payload must be what PyInstaller built. A Linux bundle (CI's check) has no .exe.
!ifdef FOREIGN_PAYLOAD
  !if /FileExists "${PAYLOAD}\agentry"
  !else
    !error "${PAYLOAD}\agentry not found: build the bundle first (packaging/build.py)"
  !endif
!else
  !if /FileExists "${PAYLOAD}\agentry.exe"
  !else
    !error "${PAYLOAD}\agentry.exe not found: run packaging/build.py windows"
  !endif
  !if /FileExists "${PAYLOAD}\agentry-cli.exe"
  !else
    !error "${PAYLOAD}\agentry-cli.exe not found: the spec builds it on Windows"
  !endif
!endif

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\Agentry"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"
BrandingText "${PRODUCT} ${VERSION}"
ShowInstDetails show
ShowUninstDetails show

VIProductVersion "${VIVERSION}"
VIAddVersionKey /LANG=1033 "ProductName" "${PRODUCT}"
VIAddVersionKey /LANG=1033 "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=1033 "FileDescription" "${PRODUCT} installer"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "${PUBLISHER}. MIT licence."

!include "MUI2.nsh"
!include "nsDialogs.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "Sections.nsh"
!include "StrFunc.nsh"
!include "WinVer.nsh"
!include "x64.nsh"

${StrStr}
${UnStrStr}

Var PreviousPayload    ; app-<version> folder of the installed version, "" on a fresh install
Var Autostart          ; ${BST_CHECKED} to start Agentry at sign-in
Var AutostartCheckbox
Var RemoveData         ; uninstaller: ${BST_CHECKED} to delete tasks and logs too
Var RemoveDataCheckbox

; ------------------------------------------------------------------ pages

!define MUI_ICON "${PAYLOAD}\${CONTENTS}\resources\icons\agentry.ico"
!define MUI_UNICON "${PAYLOAD}\${CONTENTS}\resources\icons\agentry.ico"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!define MUI_PAGE_CUSTOMFUNCTION_PRE SkipOnUpgrade
!insertmacro MUI_PAGE_DIRECTORY
Page custom AutostartPage AutostartPageLeave
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "${APP_EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${PRODUCT} now"
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
UninstPage custom un.DataPage un.DataPageLeave
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

; ------------------------------------------------------------------ shared helpers

; Is a program with this image name running for the current user? Pushes 1 or 0.
!macro PROCESS_RUNNING_FUNCTION PREFIX
  Function ${PREFIX}ProcessRunning
    Exch $R0  ; image name, e.g. agentry.exe
    Push $R1
    Push $R2
    ReadEnvStr $R1 USERNAME
    nsExec::ExecToStack '"$SYSDIR\tasklist.exe" /NH /FO CSV /FI "IMAGENAME eq $R0" /FI "USERNAME eq $R1"'
    Pop $R2  ; exit code
    Pop $R2  ; output
    !if "${PREFIX}" == "un."
      ${UnStrStr} $R2 $R2 '"$R0"'
    !else
      ${StrStr} $R2 $R2 '"$R0"'
    !endif
    ${If} $R2 == ""
      StrCpy $R0 0
    ${Else}
      StrCpy $R0 1
    ${EndIf}
    Pop $R2
    Pop $R1
    Exch $R0
  FunctionEnd
!macroend
!insertmacro PROCESS_RUNNING_FUNCTION ""
!insertmacro PROCESS_RUNNING_FUNCTION "un."

; Ask a running Agentry to quit, keeping its agents running (they are reattached by the
; next start). The app is agentry.exe; runners are agentry-cli.exe and may keep running.
!macro QUIT_AGENTRY_FUNCTION PREFIX
  Function ${PREFIX}QuitAgentry
    ${If} $PreviousPayload != ""
    ${AndIf} ${FileExists} "$INSTDIR\$PreviousPayload\agentry-cli.exe"
      DetailPrint "Asking ${PRODUCT} to quit (its agents keep running)..."
      nsExec::ExecToLog '"$INSTDIR\$PreviousPayload\agentry-cli.exe" quit --timeout 30'
      Pop $0
    ${EndIf}
    ${Do}
      Push "agentry.exe"
      Call ${PREFIX}ProcessRunning
      Pop $0
      ${If} $0 == 0
        ${Break}
      ${EndIf}
      MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION \
        "${PRODUCT} is still running.$\r$\n$\r$\nQuit it from its tray icon (choose to keep \
        agents running: they are picked up again by the new version), then click Retry." \
        /SD IDCANCEL IDRETRY retry
      Abort "${PRODUCT} is still running."
      retry:
    ${Loop}
  FunctionEnd
!macroend
!insertmacro QUIT_AGENTRY_FUNCTION ""
!insertmacro QUIT_AGENTRY_FUNCTION "un."

; Delete one app-<version> folder unless something still runs from it. Renaming a folder
; fails while any file in it is open, which tells "in use" apart without touching a file;
; a folder in use is left whole (runners load modules lazily) and removed at next sign-in.
!macro REMOVE_PAYLOAD_FUNCTION PREFIX
  Function ${PREFIX}RemovePayload
    Exch $R0  ; folder name under $INSTDIR
    ${If} ${FileExists} "$INSTDIR\$R0\agentry.exe"
    ${OrIf} ${FileExists} "$INSTDIR\$R0\${CONTENTS}\*.*"
      ClearErrors
      Rename "$INSTDIR\$R0" "$INSTDIR\~$R0"
      ${IfNot} ${Errors}
        RMDir /r "$INSTDIR\~$R0"
      ${Else}
        DetailPrint "$R0 is in use by running agents; it will be removed at next sign-in."
        ; ...and $INSTDIR too once it is empty (after an uninstall)
        WriteRegStr HKCU "${RUNONCE_KEY}" "Agentry cleanup $R0" \
          '"$SYSDIR\cmd.exe" /d /c rmdir /s /q "$INSTDIR\$R0" & rmdir "$INSTDIR"'
      ${EndIf}
    ${EndIf}
    Pop $R0
  FunctionEnd
!macroend
!insertmacro REMOVE_PAYLOAD_FUNCTION ""
!insertmacro REMOVE_PAYLOAD_FUNCTION "un."

; Folders renamed for deletion whose deletion was cut short (nothing runs from them).
!macro REMOVE_LEFTOVERS_FUNCTION PREFIX
  Function ${PREFIX}RemoveLeftovers
    FindFirst $R0 $R1 "$INSTDIR\~app-*"
    ${DoWhile} $R1 != ""
      RMDir /r "$INSTDIR\$R1"
      FindNext $R0 $R1
    ${Loop}
    FindClose $R0
  FunctionEnd
!macroend
!insertmacro REMOVE_LEFTOVERS_FUNCTION ""
!insertmacro REMOVE_LEFTOVERS_FUNCTION "un."

; ------------------------------------------------------------------ install

Function SkipOnUpgrade
  ${If} $PreviousPayload != ""
    Abort  ; an upgrade goes where the installed version is
  ${EndIf}
FunctionEnd

Function AutostartPage
  !insertmacro MUI_HEADER_TEXT "Start with Windows" "Choose whether ${PRODUCT} starts when you sign in."
  nsDialogs::Create 1018
  Pop $0
  ${If} $0 == error
    Abort
  ${EndIf}
  ${NSD_CreateLabel} 0 0 100% 36u "${PRODUCT} reattaches the agents that kept running while it \
    was closed and starts queued tasks. Starting it when you sign in lets it pick up where it \
    left off without you opening it."
  Pop $0
  ${NSD_CreateCheckbox} 0 44u 100% 12u "&Start ${PRODUCT} when I sign in"
  Pop $AutostartCheckbox
  ${NSD_SetState} $AutostartCheckbox $Autostart
  nsDialogs::Show
FunctionEnd

Function AutostartPageLeave
  ${NSD_GetState} $AutostartCheckbox $Autostart
FunctionEnd

Section "${PRODUCT}" SecApp
  SectionIn RO
  SetShellVarContext current
  Call QuitAgentry

  SetOutPath "${APPDIR}"
  SetOverwrite ifdiff  ; reinstalling the same version skips files a runner holds open
  File /r "${PAYLOAD}\*"
  SetOverwrite on

  SetOutPath "$INSTDIR"
  FileOpen $0 "$INSTDIR\agentry.cmd" w
  FileWrite $0 "@echo off$\r$\n"
  FileWrite $0 "rem The ${PRODUCT} command line; the installer rewrites this for each version.$\r$\n"
  FileWrite $0 '"%~dp0app-${VERSION}\agentry-cli.exe" %*$\r$\n'
  FileWrite $0 "exit /b %ERRORLEVEL%$\r$\n"
  FileClose $0
  WriteUninstaller "$INSTDIR\${UNINSTALLER}"

  SetOutPath "$PROFILE"  ; the shortcuts' working folder
  CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "${APP_EXE}" "" "${APP_EXE}" 0 SW_SHOWNORMAL "" "${DESCRIPTION}"
  ${If} ${FileExists} "${TASKBAR_PINS}\${PRODUCT}.lnk"
    ; A pin made from the Start menu copies the shortcut: point it at the new version.
    CreateShortcut "${TASKBAR_PINS}\${PRODUCT}.lnk" "${APP_EXE}" "" "${APP_EXE}" 0 SW_SHOWNORMAL "" "${DESCRIPTION}"
  ${EndIf}
  ${If} $Autostart == ${BST_CHECKED}
    WriteRegStr HKCU "${RUN_KEY}" "${PRODUCT}" '"${APP_EXE}"'
  ${Else}
    DeleteRegValue HKCU "${RUN_KEY}" "${PRODUCT}"
  ${EndIf}

  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINST_KEY}" "Comments" "${DESCRIPTION}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "${APP_EXE},0"
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\${UNINSTALLER}"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\${UNINSTALLER}" /S'
  WriteRegStr HKCU "${UNINST_KEY}" "AgentryPayload" "app-${VERSION}"
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "${APPDIR}" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" $0

  ; Earlier versions: gone now, or at next sign-in if agents still run from them.
  FindFirst $0 $1 "$INSTDIR\app-*"
  ${DoWhile} $1 != ""
    ${If} $1 != "app-${VERSION}"
      Push $1
      Call RemovePayload
    ${EndIf}
    FindNext $0 $1
  ${Loop}
  FindClose $0
  Call RemoveLeftovers
SectionEnd

Section "Desktop shortcut" SecDesktop
  SetShellVarContext current
  SetOutPath "$PROFILE"
  CreateShortcut "$DESKTOP\${PRODUCT}.lnk" "${APP_EXE}" "" "${APP_EXE}" 0 SW_SHOWNORMAL "" "${DESCRIPTION}"
SectionEnd

Section "-Remove an unwanted desktop shortcut"
  ${IfNot} ${SectionIsSelected} ${SecDesktop}
    Delete "$DESKTOP\${PRODUCT}.lnk"
  ${EndIf}
SectionEnd

; Runs before any page; after the sections, whose index it uses (SecDesktop).
Function .onInit
  SetShellVarContext current
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "${PRODUCT} needs 64-bit Windows." /SD IDOK
    Abort
  ${EndIf}
  ${IfNot} ${AtLeastWin10}
    MessageBox MB_ICONSTOP "${PRODUCT} needs Windows 10 or later." /SD IDOK
    Abort
  ${EndIf}
  System::Call 'kernel32::CreateMutex(p 0, i 0, t "AgentrySetup") p .r1 ?e'
  Pop $0
  ${If} $0 == 183  ; ERROR_ALREADY_EXISTS
    MessageBox MB_ICONEXCLAMATION "The ${PRODUCT} installer is already running." /SD IDOK
    Abort
  ${EndIf}
  ReadRegStr $PreviousPayload HKCU "${UNINST_KEY}" "AgentryPayload"
  ; An upgrade keeps the choices made last time; a fresh install starts without autostart.
  ReadRegStr $0 HKCU "${RUN_KEY}" "${PRODUCT}"
  ${If} $0 != ""
    StrCpy $Autostart ${BST_CHECKED}
  ${Else}
    StrCpy $Autostart ${BST_UNCHECKED}
  ${EndIf}
  ${If} $PreviousPayload != ""
  ${AndIfNot} ${FileExists} "$DESKTOP\${PRODUCT}.lnk"
    !insertmacro UnselectSection ${SecDesktop}
  ${EndIf}
  ; Silent installs: /AUTOSTART=1 or /AUTOSTART=0.
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/AUTOSTART=" $1
  ${IfNot} ${Errors}
    ${If} $1 == "1"
      StrCpy $Autostart ${BST_CHECKED}
    ${Else}
      StrCpy $Autostart ${BST_UNCHECKED}
    ${EndIf}
  ${EndIf}
FunctionEnd

; ------------------------------------------------------------------ uninstall

Function un.onInit
  SetShellVarContext current
  ReadRegStr $PreviousPayload HKCU "${UNINST_KEY}" "AgentryPayload"
  StrCpy $RemoveData ${BST_UNCHECKED}
  ; Silent uninstalls keep the data unless given /REMOVEDATA.
  ${un.GetParameters} $0
  ClearErrors
  ${un.GetOptions} $0 "/REMOVEDATA" $1
  ${IfNot} ${Errors}
    StrCpy $RemoveData ${BST_CHECKED}
  ${EndIf}
FunctionEnd

Function un.DataPage
  !insertmacro MUI_HEADER_TEXT "Your tasks and logs" "Choose whether to keep them."
  nsDialogs::Create 1018
  Pop $0
  ${If} $0 == error
    Abort
  ${EndIf}
  ${NSD_CreateLabel} 0 0 100% 36u "${PRODUCT}'s tasks, their output logs and your settings are \
    in ${DATA_DIR}. They are kept unless you tick the box, so installing ${PRODUCT} again \
    brings them back."
  Pop $0
  ${NSD_CreateCheckbox} 0 44u 100% 12u "&Also remove my tasks and logs"
  Pop $RemoveDataCheckbox
  ${NSD_SetState} $RemoveDataCheckbox $RemoveData
  ReadEnvStr $1 AGENTRY_HOME
  ${If} $1 != ""
    ${NSD_CreateLabel} 0 64u 100% 24u "AGENTRY_HOME is set to $1: that folder is yours and is \
      never removed."
    Pop $0
  ${EndIf}
  nsDialogs::Show
FunctionEnd

Function un.DataPageLeave
  ${NSD_GetState} $RemoveDataCheckbox $RemoveData
  ${If} $RemoveData == ${BST_CHECKED}
    Push "agentry-cli.exe"
    Call un.ProcessRunning
    Pop $0
    ${If} $0 == 1
      MessageBox MB_OKCANCEL|MB_ICONEXCLAMATION "Some agents are still running. Their logs \
        are in use, so part of ${DATA_DIR} stays until they finish.$\r$\n$\r$\nRemove the \
        rest now?" IDOK go_on
      Abort  ; back to the page
      go_on:
    ${EndIf}
  ${EndIf}
FunctionEnd

Section "Uninstall"
  SetShellVarContext current
  Call un.QuitAgentry

  Delete "$SMPROGRAMS\${PRODUCT}.lnk"
  Delete "$DESKTOP\${PRODUCT}.lnk"
  Delete "${TASKBAR_PINS}\${PRODUCT}.lnk"
  DeleteRegValue HKCU "${RUN_KEY}" "${PRODUCT}"
  Delete "$INSTDIR\agentry.cmd"

  FindFirst $0 $1 "$INSTDIR\app-*"
  ${DoWhile} $1 != ""
    Push $1
    Call un.RemovePayload
    FindNext $0 $1
  ${Loop}
  FindClose $0
  Call un.RemoveLeftovers

  Delete "$INSTDIR\${UNINSTALLER}"
  RMDir "$INSTDIR"  ; only if empty: never delete what the installer did not put there
  DeleteRegKey HKCU "${UNINST_KEY}"

  ${If} $RemoveData == ${BST_CHECKED}
    DetailPrint "Removing tasks, logs and settings in ${DATA_DIR}"
    RMDir /r "${DATA_DIR}"
  ${Else}
    DetailPrint "Kept your tasks and logs in ${DATA_DIR}"
  ${EndIf}
SectionEnd
